/**
 * Statistics in the web app (registered under /api/v1 by officer-role.ts): this node's own, as
 * `entraide stats --json` prints them, with the refusals by ground (requests sent, received); its signed export for a
 * network coordinator (`stats --export [--network]`); and, for a coordinator, the merge of the
 * members' exports uploaded from the page (`stats merge --json`), each verified against the keys
 * this node holds for the authority it names before anything is counted.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NetworkId } from '../../shared/meetings/names.ts';
import { breakdowns } from '../../shared/requests/statistics-breakdowns.ts';
import type { RequestStatsRecord } from '../../shared/requests/statistics-export.ts';
import { statistics } from '../../shared/requests/statistics.ts';
import type { AuthorityNode } from '../node.ts';
import { signedStatisticsExport } from '../stats-export.ts';
import { mergeStatisticsTexts } from '../stats-merge.ts';
import type { RouteContext } from './route-context.ts';

/** Reads a minute: each tallies every request the node holds. */
export const STATISTICS_PER_MINUTE = 60;
/** Exports and merges a minute: each signs, or verifies every file against the key log. */
export const EXPORTS_PER_MINUTE = 10;
/** The exports of one merge from the page (a network's members, each once). */
export const MERGE_EXPORTS_MAX = 200;
/** What one merge may upload: about 100,000 requests; larger sets go through `stats merge`. */
export const MERGE_BODY_BYTES = 64 * 1024 * 1024;

const codesOf = (r: RequestStatsRecord) => ({
  state: r.state,
  codes: {
    refusalGround: r.refusalGround,
    legalBases: r.legalBases,
    measures: r.measures,
    dataCategories: r.dataCategories,
    offenceCategory: r.offenceCategory,
  },
});

const mergeKeys = (node: AuthorityNode) => ({
  sender: (authority: string, address: string) => node.trust.sender(authority, address),
  members: (network: string) => node.networks.roster(network)?.members ?? null,
});

export async function statisticsRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { node } = ctx;
  const NetworkQuery = Type.Object({ network: Type.Optional(NetworkId) }, { additionalProperties: false });

  app.get(
    '/statistics',
    { config: { rateLimit: { max: STATISTICS_PER_MINUTE, timeWindow: 60_000 } } },
    async () => {
      const records = node.requests.records();
      const refused = (direction: 'out' | 'in') =>
        breakdowns(records.filter((r) => r.direction === direction).map(codesOf)).refusalGround;
      return { ...statistics(records), refusalGround: { out: refused('out'), in: refused('in') } };
    },
  );

  app.get(
    '/statistics/export',
    {
      config: { rateLimit: { max: EXPORTS_PER_MINUTE, timeWindow: 60_000 } },
      schema: { querystring: NetworkQuery },
    },
    async (req, reply) => {
      const { network } = req.query as { network?: string };
      const exported = signedStatisticsExport(node, node.requests.records(), network);
      const name = `statistics-${node.authority}${network ? `-${network}` : ''}.json`;
      return reply
        .header('content-disposition', `attachment; filename="${name}"`)
        .type('application/json')
        .send(JSON.stringify(exported, null, 2) + '\n');
    },
  );

  app.post(
    '/statistics/merge',
    {
      bodyLimit: MERGE_BODY_BYTES,
      config: { rateLimit: { max: EXPORTS_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        body: Type.Object(
          {
            network: Type.Optional(NetworkId),
            /** Adds this node's own export (for `network` when given), as its member would. */
            includeOwn: Type.Optional(Type.Boolean()),
            exports: Type.Array(
              Type.Object(
                {
                  name: Type.String({ minLength: 1, maxLength: 255 }),
                  text: Type.String({ minLength: 1, maxLength: MERGE_BODY_BYTES }),
                },
                { additionalProperties: false },
              ),
              { maxItems: MERGE_EXPORTS_MAX },
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const b = req.body as {
        network?: string;
        includeOwn?: boolean;
        exports: { name: string; text: string }[];
      };
      const items = b.exports.map((e) => ({ source: e.name, text: e.text }));
      if (b.includeOwn) {
        const own = signedStatisticsExport(node, node.requests.records(), b.network);
        items.unshift({ source: `${node.authority} (this node)`, text: JSON.stringify(own) });
      }
      return { networks: await mergeStatisticsTexts(mergeKeys(node), items, { network: b.network }) };
    },
  );
}

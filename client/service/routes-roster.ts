/**
 * The coordinator's roster routes (registered with the network routes): the next version of a
 * network's roster, signed and sent to its members (as `network add` / `network remove`), and
 * every version this node holds with what each changed. An authority new to the network whose
 * safety code was never verified is refused (UNVERIFIED_COUNTERPART) until the officer confirms
 * it, as for a network meeting; the members already on the roster were asked about when they
 * were added.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { parseAuthorityAddress } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import { NetworkId } from '../../shared/meetings/names.ts';
import type { Roster } from '../../shared/meetings/roster.ts';
import { mustBeConfirmed } from './desk-requests.ts';
import type { RouteContext } from './route-context.ts';

/** Roster versions issued a minute: each signs one and sends it to every member. */
export const ROSTER_CHANGES_PER_MINUTE = 30;
/** Reads of the version history a minute: each opens every version held. */
export const ROSTER_HISTORY_PER_MINUTE = 60;
/** Authorities named in one list of a change. */
export const MAX_CHANGE_ITEMS = 100;

const Authority = Type.String({ minLength: 3, maxLength: 320 });
const Authorities = Type.Array(Authority, { maxItems: MAX_CHANGE_ITEMS });
const NetworkParams = Type.Object({ id: NetworkId }, { additionalProperties: false });
const RosterChange = Type.Object(
  {
    add: Type.Optional(Authorities),
    remove: Type.Optional(Authorities),
    addCoordinators: Type.Optional(Authorities),
    removeCoordinators: Type.Optional(Authorities),
    confirmed: Type.Optional(Type.Array(Authority, { maxItems: 2 * MAX_CHANGE_ITEMS })),
  },
  { additionalProperties: false },
);
type RosterChange = Static<typeof RosterChange>;
const Names = Type.Array(Type.String());
const Diff = Type.Object({
  addedMembers: Names,
  removedMembers: Names,
  addedCoordinators: Names,
  removedCoordinators: Names,
});
/** The roster as `GET /networks/:id` shows it: described loosely, its shape is NetworkView. */
const View = Type.Object(
  { network: Type.String(), version: Type.Integer(), members: Names, coordinators: Names },
  { additionalProperties: true },
);
const Version = Type.Object({
  version: Type.Integer(),
  issuedBy: Type.String(),
  at: Type.String(),
  coordinators: Names,
  members: Names,
  diff: Type.Union([Diff, Type.Null()]),
});

/**
 * The change's guard block: at least one authority named, each a well-formed authority address,
 * and something that the roster held does not already say. Returns the authorities new to the
 * network. Nothing is signed or sent before it passes.
 */
function checkChange(network: string, held: Roster, c: RosterChange): string[] {
  const lists = [c.add, c.remove, c.addCoordinators, c.removeCoordinators].map((l) => l ?? []);
  for (const a of lists.flat()) parseAuthorityAddress(a);
  const [add, remove, addCoordinators, removeCoordinators] = lists as [
    string[],
    string[],
    string[],
    string[],
  ];
  const newcomers = [...new Set([...add, ...addCoordinators])].filter((a) => !held.members.includes(a));
  const changes =
    newcomers.length > 0 ||
    remove.some((a) => held.members.includes(a)) ||
    addCoordinators.some((a) => !held.coordinators.includes(a)) ||
    removeCoordinators.some((a) => held.coordinators.includes(a));
  if (!changes) {
    throw new EntraideError(
      'SCHEMA_INVALID',
      `this change leaves the roster of ${network} (version ${held.version}) as it is: name an authority to add or remove`,
    );
  }
  return newcomers;
}

export async function rosterRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { node } = ctx;

  app.post(
    '/networks/:id/roster',
    {
      bodyLimit: 256 * 1024,
      config: { rateLimit: { max: ROSTER_CHANGES_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        params: NetworkParams,
        body: RosterChange,
        response: { 200: Type.Object({ view: View, diff: Diff }) },
      },
    },
    async (req) => {
      const network = (req.params as { id: string }).id;
      const c = req.body as RosterChange;
      const held = node.networks.mustCoordinate(network);
      const newcomers = checkChange(network, held, c);
      const confirmed = await mustBeConfirmed(node, newcomers, c.confirmed);
      const { view, diff } = await node.networks.change(network, {
        ...(c.add ? { add: c.add } : {}),
        ...(c.remove ? { remove: c.remove } : {}),
        ...(c.addCoordinators ? { addCoordinators: c.addCoordinators } : {}),
        ...(c.removeCoordinators ? { removeCoordinators: c.removeCoordinators } : {}),
      });
      await node.counterparts.confirm(confirmed);
      ctx.changed('meetings', network);
      return { view, diff };
    },
  );

  app.get(
    '/networks/:id/versions',
    {
      config: { rateLimit: { max: ROSTER_HISTORY_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        params: NetworkParams,
        response: { 200: Type.Object({ network: Type.String(), versions: Type.Array(Version) }) },
      },
    },
    async (req) => {
      const network = (req.params as { id: string }).id;
      return { network, versions: node.networks.versions(network) };
    },
  );
}

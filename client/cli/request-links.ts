/**
 * Linked requests on the command line: `request new --case REF --related ID=RELATION` (what a
 * request follows up, supplements or extends, and the case it belongs to), and
 * `request extend-preservation`, which asks for preserved data to be kept longer.
 */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { RELATION_CODES, type Relation } from '../../shared/requests/vocabulary.ts';
import type { AuthorityNode } from '../node.ts';
import { extendPreservation } from '../request-follow-ups.ts';
import { tellIfQueued } from './format-queued.ts';
import { json, out, withNode } from './io.ts';

type Run = (f: () => Promise<void>) => Promise<void>;

export const CASE_OPTION = [
  '--case <reference>',
  'the case the request belongs to (your case number)',
] as const;
export const CONSULTATION_OPTION = [
  '--consultation <id>',
  'the informal consultation this request follows (entraide request consultations)',
] as const;
export const RELATED_OPTION = [
  '--related <id=relation...>',
  `an earlier request this one relates to (${RELATION_CODES.join(', ')}); repeatable`,
] as const;

/** `--related 0195…=follow_up`, the id as an id, prefix or reference `request show` accepts. */
function relatedOf(node: AuthorityNode, text: string): { request: string; relation: Relation } {
  const at = text.lastIndexOf('=');
  const relation = text.slice(at + 1) as Relation;
  if (at <= 0 || !RELATION_CODES.includes(relation))
    throw new EntraideError(
      'USAGE',
      `--related ${text}: write ID=RELATION, the relation one of ${RELATION_CODES.join(', ')}`,
    );
  return { request: node.requests.mustExist(text.slice(0, at)).id, relation };
}

/** A consultation's full id from its first characters, as `request consultations` lists them. */
function consultationId(node: AuthorityNode, prefix: string): string {
  const found = node.consultations.list().filter((c) => c.id.startsWith(prefix));
  if (found.length !== 1)
    throw new EntraideError(
      'NOT_FOUND',
      `no single consultation ${prefix} on this node: see entraide request consultations`,
    );
  return found[0]!.id;
}

/** The draft read from a file, with the case, the links and the consultation given on the command line. */
export function withLinks(
  node: AuthorityNode,
  draft: unknown,
  o: { case?: string | undefined; related?: string[] | undefined; consultation?: string | undefined },
): unknown {
  if (!o.case && !o.related?.length && !o.consultation) return draft;
  if (typeof draft !== 'object' || draft === null || Array.isArray(draft)) return draft; // the schema says why
  const d = draft as Record<string, unknown>;
  const given = Array.isArray(d.relatedTo) ? (d.relatedTo as unknown[]) : [];
  return {
    ...d,
    ...(o.case ? { caseReference: o.case } : {}),
    ...(o.consultation ? { consultation: consultationId(node, o.consultation) } : {}),
    ...(o.related?.length ? { relatedTo: [...given, ...o.related.map((r) => relatedOf(node, r))] } : {}),
  };
}

export function extendPreservationCommand(request: Command, program: Command, run: Run): void {
  request
    .command('extend-preservation <id>')
    .description(
      'ask the requested authority to keep preserved data longer: a new preservation request linked to the first',
    )
    .requiredOption('--until <YYYY-MM-DD>', 'the new retention date')
    .option('--title <title>', 'a title of its own (default: the first request’s)')
    .option('--reference <ref>', 'your reference number for it (default: the first request’s)')
    .option('--despite-warnings', 'send even though the completeness check warns')
    .option('--json', 'machine-readable output')
    .action(
      (
        id: string,
        o: { until: string; title?: string; reference?: string; despiteWarnings?: boolean; json?: boolean },
      ) =>
        run(() =>
          withNode(program, async (node) => {
            const r = await extendPreservation(node.requests, id, o);
            if (o.json) return json(r);
            for (const w of r.warnings)
              process.stderr.write(`warning ${w.code} (${w.field}): ${w.message}\n`);
            out(r.id);
            out(`sent: the data to be kept until ${o.until}`);
            if (r.sent) tellIfQueued(r.sent);
          }),
        ),
    );
}

/**
 * The officer's commands for requests: request new|check|send|list|show|update|supplement|message|types.
 * Evidence, statistics, forwarding and overrides are in request-evidence.ts.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { EntraideError } from '../../shared/errors.ts';
import { SUPPLEMENT_KINDS } from '../../shared/protocol/content.ts';
import { describeHandling } from '../../shared/requests/handling.ts';
import {
  REFUSAL_GROUNDS,
  REQUEST_TYPE_LABELS,
  REQUEST_TYPES,
  STATUSES,
} from '../../shared/requests/vocabulary.ts';
import type { AuthorityNode } from '../node.ts';
import type { RequestSummary } from '../requests.ts';
import { fetchIfReachable, requestListView, requestShowView } from '../service/desk.ts';
import { guidedDraft } from './guided.ts';
import { fromNode, json, out, query, shortTime, withNode } from './io.ts';
import { confirmCounterparts, marked, UNVERIFIED_OK_OPTION } from './unverified.ts';

export type Run = (fn: () => Promise<void>) => Promise<void>;

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new EntraideError('USAGE', `cannot read ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new EntraideError('INVALID_JSON', `${file} is not valid JSON`);
  }
}

/** Brings the node up to date with the relay first; offline, the local records are shown. */
export async function refresh(node: AuthorityNode): Promise<void> {
  if (!(await fetchIfReachable(node)))
    process.stderr.write('entraide: the relay does not answer; showing what this node holds\n');
}

/** Sends queued receipts before the node closes; offline they wait for the next command. */
export async function flushReceipts(node: AuthorityNode): Promise<void> {
  await node.receipts.flush().catch(() => undefined);
}

const FLAG_TEXT: Record<string, string> = {
  overdue: 'OVERDUE',
  due_soon: 'due soon',
  undelivered: 'not delivered',
  unacknowledged: 'not acknowledged',
};

/** One request in a list; with `verified`, a counterpart whose safety code was never verified is marked. */
export function requestLine(r: RequestSummary, verified?: ReadonlySet<string>): string {
  const flags = r.flags.length ? `  [${r.flags.map((f) => FLAG_TEXT[f]).join(', ')}]` : '';
  const who = verified ? marked(r.counterpart, verified) : r.counterpart;
  const arrow = r.direction === 'out' ? `→ ${who}` : `← ${who}`;
  const due = r.deadline ? `  due ${r.deadline}` : '';
  return `${r.id}  ${r.state.padEnd(25)} ${r.requestType.padEnd(28)} ${arrow}  ${r.references.requesting}  ${r.title}${due}${flags}`;
}

export function requestCommands(program: Command, run: Run): void {
  const request = program.command('request').description('requests for cooperation and their status');

  request
    .command('types')
    .description('request types, statuses and grounds of refusal')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(async () => {
        if (o.json)
          return json({ types: REQUEST_TYPES, statuses: STATUSES, grounds: Object.keys(REFUSAL_GROUNDS) });
        out('Request types:');
        for (const t of REQUEST_TYPES) out(`  ${t.padEnd(30)} ${REQUEST_TYPE_LABELS[t]}`);
        out('Statuses:');
        out(`  ${STATUSES.join(', ')}`);
        out('Grounds of refusal (--ground):');
        for (const [g, text] of Object.entries(REFUSAL_GROUNDS)) out(`  ${g.padEnd(26)} ${text}`);
      }),
    );

  request
    .command('check')
    .description(
      'check a request file without sending it: errors, and what a counterpart would send back for',
    )
    .requiredOption('--type <type>', 'request type (entraide request types)')
    .requiredOption('--file <request.json>', 'the request')
    .option('--json', 'machine-readable output')
    .action((o: { type: string; file: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const { warnings } = node.requests.check(o.type, readJsonFile(o.file));
          if (o.json) return json({ ok: true, warnings });
          if (warnings.length === 0) out('complete: nothing a counterpart would send back for');
          for (const w of warnings) out(`warning ${w.code} (${w.field}): ${w.message}`);
        }),
      ),
    );

  request
    .command('new')
    .description('draft a request and send it to the requested authority')
    .option('--type <type>', 'request type (entraide request types)')
    .option('--to <authority-address>', 'the requested authority, e.g. ng.moj@relay.wacap.example')
    .option('--file <request.json>', 'the request (see README: Requests)')
    .option('--interactive', 'answer questions instead of writing a file')
    .option('--draft', 'keep it on this node as a draft; send it later with `request send`')
    .option('--despite-warnings', 'send even though the completeness check warns')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action(
      (o: {
        type?: string;
        to?: string;
        file?: string;
        interactive?: boolean;
        draft?: boolean;
        despiteWarnings?: boolean;
        unverifiedOk?: boolean;
        json?: boolean;
      }) =>
        run(() =>
          withNode(program, async (node) => {
            let { type, to } = o;
            let draft: unknown;
            let despite = o.despiteWarnings ?? false;
            let asDraft = o.draft ?? false;
            if (o.interactive) {
              const guided = await guidedDraft({ type, to });
              ({ type, to, draft } = guided);
              if (guided.decision === 'draft') asDraft = true;
              if (guided.decision === 'send') despite = true;
            } else {
              if (!o.file)
                throw new EntraideError(
                  'USAGE',
                  'give the request with --file request.json, or use --interactive',
                );
              draft = readJsonFile(o.file);
            }
            if (!type)
              throw new EntraideError(
                'USAGE',
                'say which kind of request with --type (entraide request types)',
              );
            if (!to) throw new EntraideError('USAGE', 'name the requested authority with --to');
            const confirmed = asDraft ? [] : await confirmCounterparts(node, [to], o.unverifiedOk);
            const r = await node.requests.create({ type, to, draft, asDraft, despiteWarnings: despite });
            if (r.state !== 'draft') await node.counterparts.confirm(confirmed);
            if (o.json) return json(r);
            for (const w of r.warnings)
              process.stderr.write(`warning ${w.code} (${w.field}): ${w.message}\n`);
            out(r.id);
            out(
              r.state === 'draft'
                ? 'kept as a draft: send it with `entraide request send <id>`'
                : `sent to ${to}`,
            );
          }),
        ),
    );

  request
    .command('send <id>')
    .description('send a request kept as a draft')
    .option('--despite-warnings', 'send even though the completeness check warns')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action((id: string, o: { despiteWarnings?: boolean; unverifiedOk?: boolean; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const { requested } = node.requests.mustExist(id);
          const confirmed = await confirmCounterparts(node, [requested], o.unverifiedOk);
          const r = await node.requests.sendDraft(id, o.despiteWarnings ?? false);
          await node.counterparts.confirm(confirmed);
          if (o.json) return json(r);
          out(`${r.id} sent`);
        }),
      ),
    );

  request
    .command('list')
    .description('requests sent and received, newest first, with their status and flags')
    .option('--status <status>', 'only requests in this status')
    .option('--overdue', 'only requests past their deadline')
    .option('--due-soon', 'only requests due within three days (or overdue)')
    .option('--sent', 'only requests this authority sent')
    .option('--received', 'only requests this authority received')
    .option('--json', 'machine-readable output')
    .action(
      (o: {
        status?: string;
        overdue?: boolean;
        dueSoon?: boolean;
        sent?: boolean;
        received?: boolean;
        json?: boolean;
      }) =>
        run(async () => {
          const filter = {
            status: o.status,
            overdue: o.overdue,
            dueSoon: o.dueSoon,
            direction: o.sent ? ('out' as const) : o.received ? ('in' as const) : undefined,
          };
          const v = await fromNode(program, `/api/v1/requests${query(filter)}`, (node) =>
            requestListView(node, filter),
          );
          if (!v.fetched)
            process.stderr.write('entraide: the relay does not answer; showing what this node holds\n');
          if (o.json) return json(v.requests);
          if (v.requests.length === 0) out('no requests');
          const unverified = new Set(v.unverified);
          const verified = new Set(v.requests.map((r) => r.counterpart).filter((a) => !unverified.has(a)));
          for (const r of v.requests) out(requestLine(r, verified));
        }),
    );

  request
    .command('show <id>')
    .description(
      'a request and its whole story: statuses, receipts, supplements, messages (id, prefix or reference)',
    )
    .option('--override <reason>', 'open a request restricted to other officers (logged)')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { override?: string; json?: boolean }) =>
      run(async () => {
        const d = await fromNode(
          program,
          `/api/v1/requests/${encodeURIComponent(id)}${query({ override: o.override })}`,
          (node) => requestShowView(node, id, o.override),
        );
        if (o.json) return json(d);
        {
          const c = d.content;
          out(`Request   ${d.id}`);
          out(`Type      ${d.requestType} (${REQUEST_TYPE_LABELS[c.requestType]})`);
          out(`From      ${d.requesting}  ref. ${d.references.requesting}`);
          out(`To        ${d.requested}${d.references.requested ? `  ref. ${d.references.requested}` : ''}`);
          out(
            `Status    ${d.state}${d.stateAt ? ` since ${shortTime(d.stateAt)}` : ''}${d.flags.length ? `  [${d.flags.map((f) => FLAG_TEXT[f]).join(', ')}]` : ''}`,
          );
          out(`Urgency   ${c.urgency}${c.urgencyReason ? ` — ${c.urgencyReason}` : ''}`);
          if (c.deadline) out(`Deadline  ${c.deadline}`);
          if (c.dataRetentionUntil) out(`Data kept until ${c.dataRetentionUntil}`);
          out(`Handling  ${describeHandling(d.handling)}`);
          out(`Language  ${c.language}`);
          out(`Title     ${c.title}`);
          if (c.legalBasis?.length) out(`Legal basis: ${c.legalBasis.map((b) => b.reference).join('; ')}`);
          if (c.offence)
            out(`Offence: ${c.offence.description}${c.offence.provision ? ` (${c.offence.provision})` : ''}`);
          if (c.summaryOfFacts) {
            out('Facts:');
            out(`  ${c.summaryOfFacts}`);
          }
          if (c.measures?.length) {
            out('Measures requested:');
            for (const m of c.measures) out(`  - ${m}`);
          }
          if (c.persons?.length) {
            out('Persons:');
            for (const p of c.persons)
              out(`  - ${p.role}: ${p.name}${p.nationality ? ` (${p.nationality})` : ''}`);
          }
          if (c.evidence?.length) {
            out('Evidence and data:');
            for (const e of c.evidence)
              out(
                `  - ${e.description}${e.holder ? `; held by ${e.holder}` : ''}${e.identifiers ? `; ${e.identifiers}` : ''}`,
              );
          }
          for (const w of d.warnings) out(`warning ${w.code}: ${w.message}`);
          out('');
          out('Story:');
          for (const e of d.story) {
            out(
              `  ${shortTime(e.at)}  ${e.what.padEnd(10)} ${e.by}  ${e.text}${e.standing ? `  (${e.standing})` : ''}`,
            );
          }
          out('');
          out(
            d.next.length
              ? `This side (${d.side}) may set: ${d.next.join(', ')}`
              : `Nothing for this side (${d.side}) to set.`,
          );
        }
      }),
    );

  request
    .command('update <id> <status>')
    .description('set the next status of a request (only the side that owns the step may)')
    .option('--note <text>', 'a note: required for refusals (the reasons) and requests for information')
    .option('--ground <ground>', 'for a refusal: the ground (entraide request types)')
    .option('--reference <ref>', 'with acknowledged: this authority’s own reference number')
    .option('--json', 'machine-readable output')
    .action(
      (
        id: string,
        status: string,
        o: { note?: string; ground?: string; reference?: string; json?: boolean },
      ) =>
        run(() =>
          withNode(program, async (node) => {
            await refresh(node);
            const r = await node.requests.update(id, status, {
              note: o.note,
              ground: o.ground,
              reference: o.reference,
            });
            if (o.json) return json(r);
            out(`${r.request} is now ${r.status} (update ${r.seq})`);
          }),
        ),
    );

  request
    .command('supplement <id>')
    .description('send the information asked for, or further measures (requesting side)')
    .option('--kind <kind>', `${SUPPLEMENT_KINDS.join(' or ')}`, 'additional_information')
    .option('--text <text>', 'the supplement')
    .option('--file <file>', 'read the supplement from a file')
    .option('--measure <measure...>', 'a further measure requested (repeatable)')
    .option('--json', 'machine-readable output')
    .action(
      (id: string, o: { kind: string; text?: string; file?: string; measure?: string[]; json?: boolean }) =>
        run(() =>
          withNode(program, async (node) => {
            if (!(SUPPLEMENT_KINDS as readonly string[]).includes(o.kind)) {
              throw new EntraideError('USAGE', `--kind is ${SUPPLEMENT_KINDS.join(' or ')}`);
            }
            if ((o.text === undefined) === (o.file === undefined)) {
              throw new EntraideError('USAGE', 'give the supplement with exactly one of --text or --file');
            }
            let text = o.text;
            if (o.file !== undefined) {
              try {
                text = readFileSync(o.file, 'utf8');
              } catch {
                throw new EntraideError('USAGE', `cannot read ${o.file}`);
              }
            }
            const r = await node.requests.supplement(id, {
              kind: o.kind as (typeof SUPPLEMENT_KINDS)[number],
              text: text!,
              measures: o.measure,
            });
            if (o.json) return json(r);
            out(r.id);
          }),
        ),
    );

  request
    .command('message <id>')
    .description('send a message on a request to the counterpart (joins the request’s story)')
    .requiredOption('--subject <text>', 'subject line')
    .requiredOption('--body <text>', 'message text')
    .option('--language <code>', 'language of the message')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { subject: string; body: string; language?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await node.requests.message(id, {
            subject: o.subject,
            body: o.body,
            language: o.language,
          });
          if (o.json) return json(r);
          out(r.id);
        }),
      ),
    );
}

/**
 * The officer's commands for requests: request new|check|send|list|show|update|supplement|message|types,
 * evidence, stats, forward, overrides.
 */
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { EntraideError } from '../../shared/errors.ts';
import { SUPPLEMENT_KINDS } from '../../shared/protocol/content.ts';
import { describeHandling } from '../../shared/requests/handling.ts';
import { statistics, statisticsCsv, type StatsRow } from '../../shared/requests/statistics.ts';
import { exportStatistics } from '../../shared/requests/statistics-export.ts';
import {
  REFUSAL_GROUNDS,
  REQUEST_TYPE_LABELS,
  REQUEST_TYPES,
  STATUSES,
} from '../../shared/requests/vocabulary.ts';
import { forward } from '../forward.ts';
import type { AuthorityNode } from '../node.ts';
import type { RequestSummary } from '../requests.ts';
import { guidedDraft } from './guided.ts';
import { json, out, shortTime, withNode } from './io.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

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
async function refresh(node: AuthorityNode): Promise<void> {
  try {
    await node.fetchInbox();
  } catch (err) {
    if (!(err instanceof EntraideError) || err.code !== 'RELAY_UNREACHABLE') throw err;
    process.stderr.write('entraide: the relay does not answer; showing what this node holds\n');
  }
}

/** Sends queued receipts before the node closes; offline they wait for the next command. */
async function flushReceipts(node: AuthorityNode): Promise<void> {
  await node.receipts.flush().catch(() => undefined);
}

const FLAG_TEXT: Record<string, string> = {
  overdue: 'OVERDUE',
  due_soon: 'due soon',
  undelivered: 'not delivered',
  unacknowledged: 'not acknowledged',
};

export function requestLine(r: RequestSummary): string {
  const flags = r.flags.length ? `  [${r.flags.map((f) => FLAG_TEXT[f]).join(', ')}]` : '';
  const arrow = r.direction === 'out' ? `→ ${r.counterpart}` : `← ${r.counterpart}`;
  const due = r.deadline ? `  due ${r.deadline}` : '';
  return `${r.id}  ${r.state.padEnd(25)} ${r.requestType.padEnd(28)} ${arrow}  ${r.references.requesting}  ${r.title}${due}${flags}`;
}

function hours(s: number | null): string {
  if (s === null) return '-';
  if (s < 120) return `${s} s`;
  return s < 3600
    ? `${Math.round(s / 60)} min`
    : s < 172_800
      ? `${(s / 3600).toFixed(1)} h`
      : `${(s / 86_400).toFixed(1)} d`;
}

function statsLine(r: StatsRow): string {
  const counts = STATUSES.filter((s) => r.byStatus[s] > 0)
    .map((s) => `${s} ${r.byStatus[s]}`)
    .join(', ');
  return [
    `${r.direction === 'out' ? 'sent to' : 'received from'} ${r.counterpart ?? 'all'}${r.requestType ? `, ${r.requestType}` : ''}: ${r.total}`,
    `    ${counts || '-'}`,
    `    acknowledge: median ${hours(r.acknowledge.medianSeconds)}, p90 ${hours(r.acknowledge.p90Seconds)} (${r.acknowledge.count})` +
      `; execute: median ${hours(r.execute.medianSeconds)}, p90 ${hours(r.execute.p90Seconds)} (${r.execute.count})` +
      `; overdue ${r.overdue}`,
  ].join('\n');
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
    .option('--json', 'machine-readable output')
    .action(
      (o: {
        type?: string;
        to?: string;
        file?: string;
        interactive?: boolean;
        draft?: boolean;
        despiteWarnings?: boolean;
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
            const r = await node.requests.create({ type, to, draft, asDraft, despiteWarnings: despite });
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
    .option('--json', 'machine-readable output')
    .action((id: string, o: { despiteWarnings?: boolean; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await node.requests.sendDraft(id, o.despiteWarnings ?? false);
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
        run(() =>
          withNode(program, async (node) => {
            await refresh(node);
            const list = node.requests.list({
              status: o.status,
              overdue: o.overdue ?? false,
              dueSoon: o.dueSoon ?? false,
              ...(o.sent ? { direction: 'out' as const } : o.received ? { direction: 'in' as const } : {}),
            });
            if (o.json) return json(list);
            if (list.length === 0) out('no requests');
            for (const r of list) out(requestLine(r));
          }),
        ),
    );

  request
    .command('show <id>')
    .description(
      'a request and its whole story: statuses, receipts, supplements, messages (id, prefix or reference)',
    )
    .option('--override <reason>', 'open a request restricted to other officers (logged)')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { override?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          await refresh(node);
          const d = node.requests.show(id, { override: o.override });
          await flushReceipts(node);
          if (o.json) return json(d);
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
        }),
      ),
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

  program
    .command('evidence <id>')
    .description(
      'proof of delivery of something this authority sent: the signed envelope and the signed receipts',
    )
    .option('--json', 'the evidence bundle, for a file or a court')
    .action((id: string, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          await refresh(node);
          // A request id (or reference) stands for the envelope that carried the request.
          const req = node.store.requests.request(id);
          const envelopeId = req?.envelopeId ?? id;
          const e = node.receipts.evidence(envelopeId);
          if (o.json) return json(e);
          out(`Envelope  ${e.envelope.id} (${e.kind})`);
          out(`From      ${e.envelope.from}`);
          out(`To        ${e.envelope.to.join(', ')}`);
          out(`Sent      ${shortTime(e.envelope.sentAt)}; accepted by the relay ${shortTime(e.acceptedAt)}`);
          out(`Ciphertext SHA-256  ${e.ciphertextHash}`);
          if (e.receipts.length === 0) out('No receipt yet.');
          for (const r of e.receipts) {
            out(
              `  ${r.kind.padEnd(9)} ${r.node}  ${shortTime(r.at)}  ${r.valid ? 'signature and ciphertext hash verified' : `INVALID: ${r.problem}`}`,
            );
          }
          if (e.undelivered.length) out(`No delivery receipt from: ${e.undelivered.join(', ')}`);
        }),
      ),
    );

  program
    .command('stats')
    .description(
      'statistics on requests sent and received: counts by status, times to acknowledge and execute, overdue',
    )
    .option('--json', 'machine-readable output')
    .option('--csv', 'one CSV row per direction, counterpart and request type')
    .option('--export <file>', 'write the signed per-request export a network coordinator aggregates')
    .action((o: { json?: boolean; csv?: boolean; export?: string }) =>
      run(() =>
        withNode(program, async (node) => {
          await refresh(node);
          const records = node.requests.records();
          const s = statistics(records);
          if (o.export) {
            const file = exportStatistics(
              {
                authority: node.authority,
                node: node.address,
                generatedAt: new Date().toISOString(),
                records,
              },
              node.identitySecretKey,
            );
            writeFileSync(o.export, JSON.stringify(file, null, 2) + '\n');
            process.stderr.write(`${records.length} request(s) exported to ${o.export}\n`);
          }
          if (o.json) return json(s);
          if (o.csv) return void process.stdout.write(statisticsCsv(s.rows));
          if (o.export) return;
          if (records.length === 0) return out('no requests sent or received yet');
          out('Totals');
          for (const r of s.totals) out(statsLine(r));
          out('');
          out('By counterpart');
          for (const r of s.byCounterpart) out(statsLine(r));
          out('');
          out('By request type');
          for (const r of s.byType) out(statsLine(r));
        }),
      ),
    );

  program
    .command('forward <id>')
    .description('forward a received message or request to another authority, as its handling code allows')
    .requiredOption('--to <authority-address...>', 'recipient authority (repeatable)')
    .option(
      '--consent <reference>',
      'the reference of the sender’s consent, when the handling code asks for it',
    )
    .option('--override <reason>', 'forward against the handling code, for this reason (logged)')
    .option('--note <text>', 'a note above the forwarded text')
    .option('--json', 'machine-readable output')
    .action(
      (id: string, o: { to: string[]; consent?: string; override?: string; note?: string; json?: boolean }) =>
        run(() =>
          withNode(program, async (node) => {
            const r = await forward(node, id, {
              to: o.to,
              consent: o.consent,
              override: o.override,
              note: o.note,
            });
            await flushReceipts(node);
            if (o.json) return json(r);
            out(r.id);
          }),
        ),
    );

  program
    .command('overrides')
    .description('the handling-code overrides and consents logged on this node')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const list = node.store.requests.overrides();
          if (o.json) return json(list);
          if (list.length === 0) out('no overrides');
          for (const v of list)
            out(`${shortTime(v.at)}  ${v.action.padEnd(20)} ${v.item}  ${v.node}  ${v.reason}`);
        }),
      ),
    );
}

/**
 * Informal consultation on the command line:
 *   entraide request consult --type T --to ADDR --file draft.json [--note TEXT]   show a draft
 *   entraide request consultations                                               those held, both ways
 *   entraide request consultation <id>                                           the draft and the comments
 *   entraide request comment <id> --on FIELD=TEXT... [--note TEXT]                comment field by field
 * The formal request names the consultation with `request new --consultation <id>`.
 */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { json, out, shortTime, withNode } from './io.ts';
import { tellIfQueued } from './format-queued.ts';
import type { Run } from './fast-commands.ts';
import { readJsonFile } from './read-json.ts';
import { confirmCounterparts, UNVERIFIED_OK_OPTION } from './unverified.ts';

/** `purpose=Say which accounts` as a comment on a field. */
function commentOf(text: string): { field: string; text: string } {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1)
    throw new EntraideError(
      'USAGE',
      `--on ${text}: write FIELD=COMMENT, e.g. --on "purpose=Say which accounts"`,
    );
  return { field: text.slice(0, at).trim(), text: text.slice(at + 1).trim() };
}

export function consultationCommands(request: Command, program: Command, run: Run): void {
  request
    .command('consult')
    .description(
      'show a draft informally to the requested authority before a formal request (no status, no deadline)',
    )
    .requiredOption('--type <type>', 'request type (entraide request types)')
    .requiredOption('--to <authority-address>', 'the authority consulted')
    .requiredOption('--file <draft.json>', 'the draft, as for request new')
    .option('--note <text>', 'what you ask about')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action(
      (o: {
        type: string;
        to: string;
        file: string;
        note?: string;
        unverifiedOk?: boolean;
        json?: boolean;
      }) =>
        run(() =>
          withNode(program, async (node) => {
            const confirmed = await confirmCounterparts(node, [o.to], o.unverifiedOk);
            const r = await node.consultations.consult({
              type: o.type,
              to: o.to,
              draft: readJsonFile(o.file),
              note: o.note,
            });
            await node.counterparts.confirm(confirmed);
            if (o.json) return json(r);
            out(r.id);
            out(
              `shown to ${o.to}, informally; the formal request names it: request new --consultation ${r.id.slice(0, 8)}`,
            );
            tellIfQueued(r.sent);
          }),
        ),
    );

  request
    .command('consultations')
    .description('the consultations held, sent and received, with how many comments each has')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          await node.fetchInbox().catch(() => undefined);
          const list = node.consultations.list();
          if (o.json) return json(list);
          if (list.length === 0) return out('no consultation yet');
          for (const c of list)
            out(
              `${c.id.slice(0, 8)}  ${c.direction === 'out' ? 'to  ' : 'from'} ${c.counterpart}  ${shortTime(c.sentAt)}  ${c.requestType}  ${c.comments} comment(s)  ${c.title}`,
            );
        }),
      ),
    );

  request
    .command('consultation <id>')
    .description(
      'a consultation: the draft, what the completeness check says of it, the comments, the formal requests that followed',
    )
    .option('--json', 'machine-readable output')
    .action((id: string, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          await node.fetchInbox().catch(() => undefined);
          const c = node.consultations.show(id);
          if (o.json) return json(c);
          out(
            `Consultation ${c.id} (informal) ${c.direction === 'out' ? 'with' : 'from'} ${c.counterpart}, ${shortTime(c.sentAt)}`,
          );
          out(`Draft     ${c.requestType}: ${c.draft.title} [${c.draft.language}]`);
          if (c.note) out(`Asked     ${c.note}`);
          for (const w of c.warnings) out(`warning ${w.code} (${w.field}): ${w.message}`);
          out(c.remarks.length ? 'Comments:' : 'No comment yet.');
          for (const r of c.remarks) out(`  ${shortTime(r.at)}  ${r.by}  ${r.field}: ${r.text}`);
          for (const r of c.requests) out(`Followed by the formal request ${r}`);
        }),
      ),
    );

  request
    .command('comment <consultation>')
    .description('comment on a draft you were consulted on, field by field (the field paths of request.json)')
    .requiredOption(
      '--on <field=comment...>',
      'a comment on a field, e.g. --on "purpose=Say which accounts" (repeatable)',
    )
    .option('--note <text>', 'a general remark')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { on: string[]; note?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          await node.fetchInbox().catch(() => undefined);
          const sent = await node.consultations.comment(id, o.on.map(commentOf), o.note);
          if (o.json) return json(sent);
          out(`${o.on.length} comment(s) sent`);
          tellIfQueued(sent);
        }),
      ),
    );
}

/** Meetings (`entraide meeting ...`): schedule, update, cancel, answer, read, export to a calendar. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { formatDuration } from '../../shared/meetings/duration.ts';
import type { Disambiguation } from '../../shared/meetings/zoned-time.ts';
import type { MeetingView } from '../meeting-records.ts';
import type { AuthorityNode } from '../node.ts';
import { json, out, withNode } from './io.ts';
import { confirmCounterparts, UNVERIFIED_OK_OPTION } from './unverified.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

interface DraftOptions {
  title?: string;
  start?: string;
  tz?: string;
  duration?: string;
  agendaFile?: string;
  languages?: string;
  interpretation?: string;
  participants?: string;
  when?: string;
  unverifiedOk?: boolean;
  json?: boolean;
}

function readAgenda(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new EntraideError('USAGE', `cannot read --agenda-file ${file}`);
  }
}

function disambiguation(when: string | undefined): Disambiguation | undefined {
  if (when === undefined) return undefined;
  if (when !== 'earlier' && when !== 'later') {
    throw new EntraideError('USAGE', '--when is earlier or later (for a local time that happens twice)');
  }
  return when;
}

const list = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

function draftOptions(cmd: Command): Command {
  return cmd
    .option('--agenda-file <file>', 'the agenda, a text file (travels end-to-end encrypted)')
    .option('--languages <list>', 'languages of the meeting, comma-separated (e.g. fr,en)')
    .option('--interpretation <text>', 'interpretation offered, e.g. "fr<>en"')
    .option('--participants <list>', 'invite only these authorities, comma-separated')
    .option('--when <earlier|later>', 'which of two instants a repeated local time (clocks going back) means')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output');
}

/**
 * The authorities an invitation goes to, chosen as node.meetings.schedule chooses them (the named
 * participants, else the network's members, else the request's counterpart), so that unverified
 * ones are asked about before anything is sealed. Empty when none is named: schedule says so.
 */
function invitees(
  node: AuthorityNode,
  o: { participants?: string; network?: string; request?: string },
): string[] {
  if (o.participants) return list(o.participants)!;
  if (o.network) return node.networks.mustHold(o.network).members;
  if (o.request) {
    const r = node.requests.mustExist(o.request);
    return [r.requesting === node.authority ? r.requested : r.requesting];
  }
  return [];
}

function printMeeting(m: MeetingView): void {
  out(`${m.uid}  ${m.cancelled ? '[CANCELLED] ' : ''}${m.title}`);
  out(`  when:      ${m.local.start} – ${m.local.end.slice(11)} (${m.local.tz})`);
  out(`             ${m.start} ${m.tz} as scheduled, ${formatDuration(m.durationMin)}`);
  out(`  organizer: ${m.organizer}${m.network ? ` for network ${m.network}` : ''}`);
  out(`  version:   ${m.sequence}`);
  if (m.languages.length > 0)
    out(`  languages: ${m.languages.join(', ')}${m.interpretation ? ` (${m.interpretation})` : ''}`);
  out(`  join:      ${m.conference.url}  passcode ${m.conference.passcode}`);
  if (m.cancelReason) out(`  cancelled: ${m.cancelReason}`);
  for (const p of m.participants) {
    const r = m.replies[p];
    out(`  ${(r?.answer ?? 'no answer').padEnd(10)} ${p}${r?.note ? `  “${r.note}”` : ''}`);
  }
  if (m.agenda) {
    out('');
    out(m.agenda.trimEnd());
  }
}

export function meetingCommands(program: Command, run: Run): void {
  const meeting = program
    .command('meeting')
    .description('video meetings: invitations across time zones, replies, calendar files');

  draftOptions(
    meeting
      .command('schedule')
      .description('invite a network’s members (or a request’s counterpart) to a video meeting')
      .requiredOption('--title <title>', 'the meeting’s title')
      .requiredOption('--start <local>', 'local start, YYYY-MM-DDTHH:MM, in --tz')
      .requiredOption('--tz <zone>', 'IANA time zone of --start, e.g. Africa/Dakar')
      .requiredOption('--duration <d>', 'e.g. 90m, 1h30m (at most 24h)')
      .option('--network <id>', 'invite the network’s members (a coordinator only)')
      .option('--request <id>', 'invite the counterpart of a request'),
  ).action((o: DraftOptions & { network?: string; request?: string }) =>
    run(() =>
      withNode(program, async (node) => {
        const agenda = readAgenda(o.agendaFile);
        const when = disambiguation(o.when);
        const confirmed = await confirmCounterparts(node, invitees(node, o), o.unverifiedOk);
        const r = await node.meetings.schedule({
          title: o.title!,
          start: o.start!,
          tz: o.tz!,
          duration: o.duration!,
          ...(agenda !== undefined ? { agenda } : {}),
          ...(o.languages ? { languages: list(o.languages)! } : {}),
          ...(o.interpretation ? { interpretation: o.interpretation } : {}),
          ...(o.participants ? { participants: list(o.participants)! } : {}),
          ...(o.network ? { network: o.network } : {}),
          ...(o.request ? { request: o.request } : {}),
          ...(when ? { disambiguation: when } : {}),
          ...(process.env.ENTRAIDE_CONFERENCE_URL
            ? { conferenceUrl: process.env.ENTRAIDE_CONFERENCE_URL }
            : {}),
        });
        await node.counterparts.confirm(confirmed);
        const v = r.view;
        if (o.json)
          return json({
            uid: v.uid,
            sequence: v.sequence,
            startUtc: v.startUtc,
            participants: v.participants,
          });
        out(v.uid);
        out(`invited ${v.participants.length} authorities for ${v.local.start} (${v.local.tz})`);
      }),
    ),
  );

  draftOptions(
    meeting
      .command('update <id>')
      .description('change a meeting this authority organizes; every participant receives the new version')
      .option('--title <title>', 'a new title')
      .option('--start <local>', 'a new local start, YYYY-MM-DDTHH:MM')
      .option('--tz <zone>', 'a new time zone for --start')
      .option('--duration <d>', 'a new duration'),
  ).action((id: string, o: DraftOptions) =>
    run(() =>
      withNode(program, async (node) => {
        const agenda = readAgenda(o.agendaFile);
        const when = disambiguation(o.when);
        const participants = o.participants ? list(o.participants)! : [];
        // Authorities dropped from the meeting receive the new version too.
        const previous = node.meetings.state(id).event?.participants ?? [];
        const confirmed = await confirmCounterparts(node, [...participants, ...previous], o.unverifiedOk);
        const r = await node.meetings.update(id, {
          ...(o.title !== undefined ? { title: o.title } : {}),
          ...(o.start !== undefined ? { start: o.start } : {}),
          ...(o.tz !== undefined ? { tz: o.tz } : {}),
          ...(o.duration !== undefined ? { duration: o.duration } : {}),
          ...(agenda !== undefined ? { agenda } : {}),
          ...(o.languages ? { languages: list(o.languages)! } : {}),
          ...(o.interpretation ? { interpretation: o.interpretation } : {}),
          ...(o.participants ? { participants } : {}),
          ...(when ? { disambiguation: when } : {}),
        });
        await node.counterparts.confirm(confirmed);
        if (o.json) return json(r.view);
        out(`${r.view.uid}: version ${r.view.sequence} sent, ${r.view.local.start} (${r.view.local.tz})`);
      }),
    ),
  );

  meeting
    .command('cancel <id>')
    .description('cancel a meeting this authority organizes')
    .option('--reason <text>', 'why, for the participants')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action((id: string, o: { reason?: string; unverifiedOk?: boolean; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const participants = node.meetings.state(id).event?.participants ?? [];
          const confirmed = await confirmCounterparts(node, participants, o.unverifiedOk);
          const r = await node.meetings.cancel(id, o.reason);
          await node.counterparts.confirm(confirmed);
          if (o.json) return json(r.view);
          out(`${r.view.uid}: cancelled, every participant told`);
        }),
      ),
    );

  meeting
    .command('rsvp <id> <answer>')
    .description('answer an invitation: accept, decline or tentative')
    .option('--note <text>', 'a note for the organizer')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action((id: string, answer: string, o: { note?: string; unverifiedOk?: boolean; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const { organizer } = node.meetings.state(id);
          const confirmed = await confirmCounterparts(node, [organizer], o.unverifiedOk);
          const r = await node.meetings.rsvp(id, answer, o.note);
          await node.counterparts.confirm(confirmed);
          if (o.json) return json(r.view);
          out(`${r.view.uid}: answered ${answer} to ${r.view.organizer}`);
        }),
      ),
    );

  meeting
    .command('show <id>')
    .description('a meeting, with its time in this authority’s zone and who answered')
    .option('--tz <zone>', 'show the time in this zone instead')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { tz?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const m = node.meetings.show(id, o.tz);
          if (o.json) return json(m);
          printMeeting(m);
        }),
      ),
    );

  meeting
    .command('list')
    .description('meetings this authority organizes or is invited to')
    .option('--upcoming', 'only those not over yet (and not cancelled)')
    .option('--tz <zone>', 'show the times in this zone')
    .option('--json', 'machine-readable output')
    .action((o: { upcoming?: boolean; tz?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const all = node.meetings.list({ upcoming: o.upcoming ?? false, ...(o.tz ? { tz: o.tz } : {}) });
          if (o.json) {
            return json(
              all.map((m) => ({
                uid: m.uid,
                sequence: m.sequence,
                title: m.title,
                startUtc: m.startUtc,
                endUtc: m.endUtc,
                local: m.local,
                organizer: m.organizer,
                cancelled: m.cancelled,
                ...(m.network ? { network: m.network } : {}),
              })),
            );
          }
          if (all.length === 0) out('no meetings');
          for (const m of all) {
            const mine = Object.keys(m.replies).length;
            out(
              `${m.uid.slice(0, 8)}  ${m.local.start} ${m.local.tz}  ${m.cancelled ? '[CANCELLED] ' : ''}${m.title}  (${m.organizer}${m.network ? `, ${m.network}` : ''}; ${mine}/${m.participants.length} answered)`,
            );
          }
        }),
      ),
    );

  meeting
    .command('ics <id>')
    .description('the meeting as an iCalendar file (RFC 5545) for calendar programs')
    .option('--out <file>', 'write it to this file instead of the standard output')
    .action((id: string, o: { out?: string }) =>
      run(() =>
        withNode(program, async (node) => {
          const text = node.meetings.ics(id);
          if (o.out) writeFileSync(o.out, text);
          else process.stdout.write(text);
        }),
      ),
    );

  meeting
    .command('slots')
    .description('times inside every member’s declared working hours')
    .requiredOption('--network <id>', 'the network')
    .requiredOption('--duration <d>', 'e.g. 60m')
    .option('--within <window>', 'how far ahead to look: 2w, 10d, 48h (at most 8 weeks)', '2w')
    .option('--tz <zone>', 'show the times in this zone')
    .option('--json', 'machine-readable output')
    .action((o: { network: string; duration: string; within: string; tz?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = node.meetings.slots(o.network, o.duration, o.within);
          if (o.json) {
            return json(
              r.slots.map((s) => ({
                start: new Date(s.start).toISOString(),
                end: new Date(s.end).toISOString(),
                available: s.available,
                outside: s.outside,
              })),
            );
          }
          const zone = node.meetings.displayZone(o.tz);
          const fmt = (t: number) =>
            new Intl.DateTimeFormat('en-GB', {
              timeZone: zone,
              weekday: 'short',
              year: 'numeric',
              month: '2-digit',
              day: '2-digit',
              hour: '2-digit',
              minute: '2-digit',
            }).format(t);
          if (r.withoutHours.length > 0) out(`no hours declared (left out): ${r.withoutHours.join(', ')}`);
          if (r.slots.length === 0) out('no time fits: widen --within or shorten --duration');
          for (const s of r.slots)
            out(
              `${fmt(s.start)} (${zone})  ${s.outside.length === 0 ? 'everyone available' : `outside their hours: ${s.outside.join(', ')}`}`,
            );
        }),
      ),
    );
}

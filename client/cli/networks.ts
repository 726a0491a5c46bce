/**
 * Networks for coordinators (`entraide network ...`) and every authority's working hours
 * (`entraide hours ...`).
 */
import type { Command } from 'commander';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError } from '../../shared/errors.ts';
import { parseAuthorityAddress } from '../../shared/addresses.ts';
import type { NetworkView } from '../networks.ts';
import { json, out, withNode } from './io.ts';
import { confirmCounterparts, UNVERIFIED_OK_OPTION } from './unverified.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

function printNetwork(n: NetworkView): void {
  out(`${n.network}  ${n.name}`);
  out(`  version ${n.version}, signed by ${n.issuedBy} at ${n.at}`);
  if (n.languages) out(`  languages: ${n.languages.join(', ')}`);
  for (const m of n.members) {
    const h = n.hours[m];
    const hours = h ? `${h.start}–${h.end} ${h.tz}, days ${h.days.join(',')}` : 'no hours declared';
    out(`  ${n.coordinators.includes(m) ? 'coordinator' : 'member     '}  ${m}  (${hours})`);
  }
  // Version-2 rosters: the members' relay keys, a source for peer relay pins once the issuing
  // coordinator's safety code is verified (see `entraide relay pins`).
  for (const [domain, key] of Object.entries(n.relays ?? {}))
    out(`  relay        ${domain}  key fingerprint ${relayKeyFingerprint(key)}`);
}

/** '1-5', '1,3,5', 'mon-fri': ISO weekdays. */
function parseDays(text: string): number[] {
  const names = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  const day = (x: string) => {
    const n = names.indexOf(x.toLowerCase().slice(0, 3));
    const v = n >= 0 ? n + 1 : Number(x);
    if (!Number.isInteger(v) || v < 1 || v > 7) {
      throw new EntraideError(
        'WORKING_HOURS_INVALID',
        `"${x}" is not a day: use 1 (Monday) to 7, or mon…sun`,
      );
    }
    return v;
  };
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b] = part.split('-');
    if (b === undefined) days.add(day(a!));
    else for (let d = day(a!); d <= day(b); d++) days.add(d);
  }
  return [...days].sort();
}

const addresses = (list: string[]) => list.map((a) => parseAuthorityAddress(a).address);

export function networkCommands(program: Command, run: Run): void {
  const network = program
    .command('network')
    .description('regional networks: members and coordinators, on a roster signed by a coordinator');

  network
    .command('create <id>')
    .description('create a network; this authority becomes its first coordinator')
    .requiredOption('--name <name>', 'the network’s full name')
    .option('--languages <list>', 'working languages, comma-separated (e.g. fr,en,pt)')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { name: string; languages?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const v = await node.networks.create(id, o.name, o.languages?.split(',').filter(Boolean));
          if (o.json) return json(v);
          out(
            `network ${v.network} created (version 1); add members with entraide network add ${v.network} <authority>`,
          );
        }),
      ),
    );

  const change =
    (kind: 'add' | 'remove', coordinators: boolean) =>
    (id: string, list: string[], o: { unverifiedOk?: boolean; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const who = addresses(list);
          // The new roster goes to every member of the new version and to those removed: the
          // current members and, for `add`, the authorities added.
          const { members } = node.networks.mustHold(id);
          const recipients = kind === 'add' ? [...members, ...who] : members;
          const confirmed = await confirmCounterparts(node, recipients, o.unverifiedOk);
          const r = await node.networks.change(
            id,
            coordinators
              ? kind === 'add'
                ? { addCoordinators: who }
                : { removeCoordinators: who }
              : kind === 'add'
                ? { add: who }
                : { remove: who },
          );
          await node.counterparts.confirm(confirmed);
          if (o.json) return json(r.view);
          out(`${id}: version ${r.view.version}, ${r.view.members.length} members, sent to the members`);
          for (const a of r.diff.addedMembers) out(`  + ${a}`);
          for (const a of r.diff.removedMembers) out(`  - ${a}`);
          for (const a of r.diff.addedCoordinators) out(`  + coordinator ${a}`);
          for (const a of r.diff.removedCoordinators) out(`  - coordinator ${a}`);
        }),
      );

  network
    .command('add <id> <authority...>')
    .description('add member authorities (a coordinator only); every member receives the new roster')
    .option('--coordinator', 'make them coordinators (they become members too)')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action(
      (id: string, list: string[], o: { coordinator?: boolean; unverifiedOk?: boolean; json?: boolean }) =>
        change('add', o.coordinator ?? false)(id, list, o),
    );

  network
    .command('remove <id> <authority...>')
    .description('remove member authorities (a coordinator only); they are told too')
    .option('--coordinator', 'only take away their coordinator role')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action(
      (id: string, list: string[], o: { coordinator?: boolean; unverifiedOk?: boolean; json?: boolean }) =>
        change('remove', o.coordinator ?? false)(id, list, o),
    );

  network
    .command('show <id>')
    .description('a network’s roster as this node holds it, with members’ declared hours')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const v = node.networks.show(id);
          if (o.json) {
            const { coordinator: _coordinator, ...rest } = v;
            return json(rest);
          }
          printNetwork(v);
        }),
      ),
    );

  network
    .command('list')
    .description('the networks this authority belongs to or coordinates')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const list = node.networks.list().map((n) => ({
            network: n.network,
            name: n.name,
            version: n.version,
            members: n.members.length,
            coordinator: n.coordinator,
          }));
          if (o.json) return json(list);
          if (list.length === 0) out('no networks yet: a coordinator adds this authority, or create one');
          for (const n of list)
            out(
              `${n.network.padEnd(14)} v${n.version}  ${String(n.members).padStart(3)} members  ${n.coordinator ? 'coordinator  ' : ''}${n.name}`,
            );
        }),
      ),
    );

  const hours = program
    .command('hours')
    .description('this authority’s working hours, which coordinators use to propose meeting times');

  hours
    .command('set')
    .description('declare working hours; they go to the coordinators of this authority’s networks')
    .requiredOption('--tz <zone>', 'IANA time zone, e.g. Africa/Dakar')
    .option('--days <days>', 'working days: 1-5, mon-fri, 1,2,3…', '1-5')
    .option('--start <HH:MM>', 'start of the working day, local', '09:00')
    .option('--end <HH:MM>', 'end of the working day, local', '17:00')
    .option('--json', 'machine-readable output')
    .action((o: { tz: string; days: string; start: string; end: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await node.networks.setHours({
            tz: o.tz,
            days: parseDays(o.days),
            start: o.start,
            end: o.end,
          });
          if (o.json) return json(r);
          out(`working hours: ${r.hours.start}–${r.hours.end} ${r.hours.tz}, days ${r.hours.days.join(',')}`);
          if (r.sentTo.length > 0) out(`sent to ${r.sentTo.join(', ')}`);
        }),
      ),
    );

  hours
    .command('show')
    .description('the working hours this authority declared')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const h = node.networks.ownHours();
          if (o.json) return json(h);
          out(h ? `${h.start}–${h.end} ${h.tz}, days ${h.days.join(',')}` : 'no working hours declared yet');
        }),
      ),
    );
}

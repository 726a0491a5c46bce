/**
 * The second act of `entraide demo`: the first authority coordinates a network of all six, each
 * declares its working hours in its own zone, the coordinator finds a time inside everyone's hours
 * and invites them; each member reads the invitation in its own local time and answers.
 */
import { EntraideError } from '../../shared/errors.ts';
import { localTimeAt } from '../../shared/meetings/zoned-time.ts';
import type { AuthorityNode } from '../node.ts';
import { out } from './io.ts';

/** Time zones of the member States the demo enrols (the first two of each demo network). */
const ZONES: Record<string, string> = {
  BJ: 'Africa/Porto-Novo',
  BF: 'Africa/Ouagadougou',
  AO: 'Africa/Luanda',
  BI: 'Africa/Bujumbura',
  AR: 'America/Argentina/Buenos_Aires',
  BR: 'America/Sao_Paulo',
};

const zoneOf = (node: AuthorityNode) => ZONES[node.authority.slice(0, 2).toUpperCase()] ?? 'UTC';

/** Fetches at every node until `done` holds (at most 20 s). */
async function until(nodes: AuthorityNode[], done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new EntraideError('INTERNAL', `${what} did not arrive within 20 s`);
    for (const n of nodes) await n.fetchInbox();
    if (!done()) await new Promise((r) => setTimeout(r, 100));
  }
}

export async function demoMeeting(nodes: AuthorityNode[], t: () => string): Promise<void> {
  const [coordinator, ...members] = nodes as [AuthorityNode, ...AuthorityNode[]];
  for (const n of nodes) {
    await n.networks.setHours({ tz: zoneOf(n), days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' });
  }
  out(`${t()}  each authority declared its working hours, 09:00–17:00 in its own zone`);
  await coordinator.networks.create('demo-network', 'Central authorities of the demo', [
    'fr',
    'en',
    'es',
    'pt',
  ]);
  await coordinator.networks.change('demo-network', { add: members.map((m) => m.authority) });
  out(`${t()}  ${coordinator.authority} created demo-network and sent its signed roster to 5 members`);
  await until(
    nodes,
    () => Object.keys(coordinator.networks.show('demo-network').hours).length === nodes.length,
    'the members’ working hours',
  );
  const { slots } = coordinator.meetings.slots('demo-network', '60m', '2w');
  const slot = slots.find((s) => s.outside.length === 0);
  if (!slot) throw new EntraideError('INTERNAL', 'no time fits every member’s hours');
  const tz = zoneOf(coordinator);
  const { view } = await coordinator.meetings.schedule({
    network: 'demo-network',
    title: 'Video meeting of the demo network',
    start: localTimeAt(slot.start, tz),
    tz,
    duration: '60m',
    agenda: 'Pending requests between our authorities',
    languages: ['fr', 'en', 'es', 'pt'],
  });
  out(
    `${t()}  ${coordinator.authority} invited everyone for ${view.local.start} ${tz}, inside the working hours of all six`,
  );
  await until(
    members,
    () => members.every((m) => m.store.meetings.meeting(view.uid) !== undefined),
    'the invitation',
  );
  for (const m of members) {
    const seen = m.meetings.show(view.uid, zoneOf(m));
    out(`${t()}  ${m.authority} sees it at ${seen.local.start} ${seen.local.tz}, and accepts`);
    await m.meetings.rsvp(view.uid, 'accept');
  }
  await until(
    [coordinator],
    () => Object.keys(coordinator.meetings.show(view.uid).replies).length === members.length,
    'the answers',
  );
  out(
    `${t()}  ${coordinator.authority} holds ${members.length} of ${members.length} answers; the relays saw only ciphertext`,
  );
}

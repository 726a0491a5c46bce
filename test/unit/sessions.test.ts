/**
 * Browser sessions of the local service: the idle lock counts only the officer's own requests,
 * ends the session (and tells whoever listens), and a session id is unguessable and single.
 */
import { describe, expect, it } from 'vitest';
import { Sessions } from '../../client/service/sessions.ts';

describe('officer sessions of the local service', () => {
  it('lock after the idle time without the officer’s requests, not before', () => {
    let now = 0;
    const sessions = new Sessions(15, () => now);
    const ended: string[] = [];
    sessions.onEnd((id) => ended.push(id));
    const s = sessions.open('Aminata Diallo');
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);

    now = 14 * 60_000;
    expect(sessions.find(s.id, true)?.officer).toBe('Aminata Diallo');
    // Events streams look without touching: an open page does not keep itself unlocked.
    now = 28 * 60_000;
    expect(sessions.find(s.id, false)).toBeDefined();
    now = 29 * 60_000 + 1;
    sessions.sweep();
    expect(ended).toEqual([s.id]);
    expect(sessions.find(s.id, true)).toBeUndefined();
  });

  it('end on the lock, once, and know no other id', () => {
    const sessions = new Sessions(15);
    const ended: string[] = [];
    sessions.onEnd((id) => ended.push(id));
    const a = sessions.open('A');
    const b = sessions.open('B');
    expect(a.id).not.toBe(b.id);
    sessions.end(a.id);
    sessions.end(a.id);
    expect(ended).toEqual([a.id]);
    expect(sessions.find(a.id, true)).toBeUndefined();
    expect(sessions.find(b.id, true)?.officer).toBe('B');
    expect(sessions.find('forged', true)).toBeUndefined();
    expect(sessions.find(undefined, true)).toBeUndefined();
  });

  it('end the oldest session when more are opened than an office shares one node with', () => {
    let now = 0;
    const sessions = new Sessions(15, () => now);
    const first = sessions.open('first');
    for (let i = 0; i < 63; i++) {
      now += 1;
      sessions.open(`officer ${i}`);
    }
    expect(sessions.find(first.id, false)).toBeDefined();
    now += 1;
    sessions.open('one more');
    expect(sessions.find(first.id, false)).toBeUndefined();
  });
});

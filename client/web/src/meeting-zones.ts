/**
 * Where each participant of a meeting lives, for showing them their local time: the zone of the
 * working hours a member declared to a network (the network views this node holds), else the
 * meeting's own zone; the officer's own zone is the browser's.
 */
import { useCallback } from 'react';
import type { Meeting } from './api.ts';
import type { NetworkView } from './api-networks.ts';
import { useLocale } from './i18n.tsx';

/** The officer's time zone as the browser knows it (UTC when it cannot say). */
export function viewerZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Declared zones by authority, the meeting's own network first where several networks say. */
export function declaredZones(networks: readonly NetworkView[]): Record<string, string> {
  const zones: Record<string, string> = {};
  for (const n of networks) for (const [a, h] of Object.entries(n.hours ?? {})) zones[a] ??= h.tz;
  return zones;
}

/** Everyone in a meeting, organizer first, each with the zone their local time is shown in. */
export function peopleOf(
  m: Meeting,
  networks: readonly NetworkView[],
  me: string,
): { authority: string; tz: string; organizer: boolean }[] {
  const own = networks.find((n) => n.network === m.network);
  const zones = { ...declaredZones(networks), ...declaredZones(own ? [own] : []) };
  const fallback = m.tz ?? 'UTC';
  const zoneOf = (a: string) => (a === me ? viewerZone() : (zones[a] ?? fallback));
  const organizer = m.organizer ?? '';
  return [
    ...(organizer ? [{ authority: organizer, tz: zoneOf(organizer), organizer: true }] : []),
    ...(m.participants ?? [])
      .filter((p) => p !== organizer)
      .map((p) => ({ authority: p, tz: zoneOf(p), organizer: false })),
  ];
}

/** A formatter of an instant as a weekday and time in a zone, in the page's language. */
export function useZonedTime(): (t: number, tz: string) => string {
  const { locale } = useLocale();
  return useCallback(
    (t: number, tz: string) => {
      try {
        return new Intl.DateTimeFormat(locale, {
          timeZone: tz,
          weekday: 'short',
          hour: '2-digit',
          minute: '2-digit',
        }).format(t);
      } catch {
        return '';
      }
    },
    [locale],
  );
}

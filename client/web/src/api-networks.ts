/** The coordinator's calls to the node's service (client/service/routes-networks.ts). */
import type { RosterVersion } from '../../../shared/meetings/roster-history.ts';
import type { RosterDiff } from '../../../shared/meetings/roster.ts';
import { call, q, type Meeting } from './api.ts';

export type { RosterDiff, RosterVersion };

export interface WorkingHoursView {
  tz: string;
  days: number[];
  start: string;
  end: string;
}

export interface NetworkView {
  network: string;
  name: string;
  version: number;
  coordinators: string[];
  members: string[];
  languages?: string[];
  hours: Record<string, WorkingHoursView>;
  relays?: Record<string, string>;
  issuedBy: string;
  at: string;
  coordinator: boolean;
}

export interface HeatmapView {
  from: number;
  stepMin: number;
  durationMin: number;
  members: string[];
  withoutHours: string[];
  counts: number[];
}

/** A change a coordinator asks for: the next version of the roster. */
export interface RosterChange {
  add?: string[];
  remove?: string[];
  addCoordinators?: string[];
  removeCoordinators?: string[];
}

const enc = encodeURIComponent;

export const networksApi = {
  list: () => call<{ networks: NetworkView[] }>('GET', '/networks'),
  show: (id: string) => call<NetworkView>('GET', `/networks/${enc(id)}`),
  heatmap: (id: string, duration: number, weeks: number) =>
    call<HeatmapView>('GET', `/networks/${enc(id)}/heatmap${q({ duration, weeks })}`),
  schedule: (
    id: string,
    body: {
      title: string;
      start: string;
      tz: string;
      durationMin: number;
      agenda?: string;
      confirmed?: string[];
    },
  ) => call<Meeting>('POST', `/networks/${enc(id)}/meetings`, body),
  changeRoster: (id: string, change: RosterChange & { confirmed?: string[] }) =>
    call<{ view: NetworkView; diff: RosterDiff }>('POST', `/networks/${enc(id)}/roster`, change),
  versions: (id: string) =>
    call<{ network: string; versions: RosterVersion[] }>('GET', `/networks/${enc(id)}/versions`),
};

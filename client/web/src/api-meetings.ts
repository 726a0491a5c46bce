/** The organizer's calls to the node's service (client/service/routes-meeting-changes.ts). */
import { call, type Meeting } from './api.ts';

/** What an update may change (as `meeting update`); absent fields keep their value. */
export interface MeetingChanges {
  title?: string;
  /** Local start, 'YYYY-MM-DDTHH:MM', in `tz`. */
  start?: string;
  tz?: string;
  durationMin?: number;
  agenda?: string;
}

const enc = encodeURIComponent;

export const meetingsApi = {
  update: (uid: string, changes: MeetingChanges, confirmed?: string[]) =>
    call<Meeting>('POST', `/meetings/${enc(uid)}/update`, {
      ...changes,
      ...(confirmed ? { confirmed } : {}),
    }),
  cancel: (uid: string, reason?: string, confirmed?: string[]) =>
    call<Meeting>('POST', `/meetings/${enc(uid)}/cancel`, {
      ...(reason ? { reason } : {}),
      ...(confirmed ? { confirmed } : {}),
    }),
};

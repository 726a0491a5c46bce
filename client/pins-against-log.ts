/**
 * Master keys pinned for a relay's authorities, held against a copy of its key log read from the
 * start. A node reads a relay's log from the start the first time (no authority of it is pinned
 * yet), or after an officer pinned the relay's key by hand and the copy verified under the key
 * before was dropped (peer-pins.ts). Master keys pinned from the dropped copy are not forgotten:
 * each must be one the log read again shows (its current master key, or one an accepted rotation
 * left behind, which trust.ts then follows). One it does not show is what a relay that substituted
 * the authority's keys leaves behind: an alarm naming the authority, `master-key-substituted` as on
 * the substituted authority's own node (inbound.ts). Sending to it stays refused (KEY_CHANGED,
 * trust.ts): the pin is not changed here.
 */
import { parseAuthorityAddress } from '../shared/addresses.ts';
import { fromBase64url } from '../shared/bytes.ts';
import { safetyCode } from '../shared/crypto/safety-code.ts';
import { currentMasterKey, replayAuthority } from '../shared/keys/authority-state.ts';
import type { KeyLogLeaf } from '../shared/protocol/key-log.ts';
import type { AlarmRecord, PinRecord } from './store/node-store.ts';

/**
 * The alarms for master keys pinned for authorities of `me.relay` (other than this node's own,
 * `me.authority`) that `leaves`, the relay's whole key log from index 0 as just verified, does not show.
 */
export function pinsNotInLog(
  me: { relay: string; authority: string },
  pins: readonly PinRecord[],
  leaves: readonly KeyLogLeaf[],
  now: Date,
): Omit<AlarmRecord, 'id'>[] {
  const { relay } = me;
  const alarms: Omit<AlarmRecord, 'id'>[] = [];
  for (const pin of pins) {
    if (pin.authority === me.authority || parseAuthorityAddress(pin.authority).domain !== relay) continue;
    const entries = leaves
      .map((leaf, index) => ({ index, leaf }))
      .filter((e) => e.leaf.authority === pin.authority);
    const { state } = replayAuthority(entries);
    if (state?.masterKeys.some((k) => k.key === pin.masterKey)) continue;
    const shows = state
      ? `shows another master key for it (safety code ${safetyCode(pin.authority, fromBase64url(currentMasterKey(state), 'masterKey', 32))}) and none that leads from the pinned one`
      : 'holds no valid enrolment of it';
    alarms.push({
      raisedAt: now,
      kind: 'master-key-substituted',
      relay,
      authority: pin.authority,
      idx: null,
      message: `the master key pinned here for ${pin.authority} (safety code ${pin.safetyCode}, pinned ${pin.pinnedAt.toISOString()}) is not in relay ${relay}’s key log read again from the start: the log ${shows}. It was pinned from a copy of the log this node no longer trusts; nothing is sent to ${pin.authority} (KEY_CHANGED). Compare safety codes with ${pin.authority} by another channel`,
      resolvedAt: null,
    });
  }
  return alarms;
}

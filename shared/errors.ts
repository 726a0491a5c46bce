/**
 * The closed set of error codes that entraide uses on every edge: the HTTP body, the
 * socket.io acknowledgement and the CLI's one-line message carry the same code.
 * Never branch on an error's message text: branch on its code. Each code also says whether it
 * is transient (`isTransient`): the one classification that decides what is retried.
 */
export const ERROR_CODES = {
  // input shape
  INVALID_JSON: { status: 400, hint: 'Send a well-formed JSON body.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, hint: 'Send the body as application/json.' },
  SCHEMA_INVALID: { status: 400, hint: 'Correct the field named in the message and send again.' },
  PAYLOAD_TOO_LARGE: { status: 413, hint: 'Send a smaller body; the limit is in the message.' },
  // the relay's budgets and health
  RATE_LIMITED: {
    status: 429,
    transient: true,
    hint: 'Too many requests: wait the number of seconds given (Retry-After) and try again.',
  },
  QUOTA_EXCEEDED: {
    status: 429,
    transient: true,
    hint: 'Too much is waiting on the relay for this sender or recipient: try again once the recipients have fetched their mail (Retry-After), or ask the relay operator to raise the quota.',
  },
  STORAGE_UNAVAILABLE: {
    status: 503,
    transient: true,
    hint: 'The relay’s storage is busy or full just now; nothing was stored: try again after the seconds given (Retry-After). If it persists, tell the relay operator.',
  },
  STORAGE_NOT_DURABLE: {
    status: 500,
    hint: 'The database (named in the message) did not accept WAL journaling with synchronous=FULL, so commits would not survive a crash; nothing was started. Keep the data folder on a local disk the process may write (not a network share, not read-only), check that no other program holds the database, and start again.',
  },
  INSECURE_URL: {
    status: 400,
    hint: 'Use an https:// URL; plain http:// is accepted only for a relay on this machine (127.0.0.1, ::1 or localhost).',
  },
  RELAY_KEY_MISMATCH: {
    status: 409,
    hint: 'The relay shows another key than the invitation names: do not go on. Check the URL and ask the relay operator for the invitation again, by another channel; nothing was stored.',
  },
  // authentication and authorisation
  AUTH_REQUIRED: { status: 401, hint: 'Log in first: the node obtains a session token from its relay.' },
  TOKEN_INVALID: { status: 401, hint: 'Log in again to obtain a fresh session token.', transient: true },
  TOKEN_EXPIRED: { status: 401, hint: 'Log in again to obtain a fresh session token.', transient: true },
  CHALLENGE_INVALID: {
    status: 401,
    hint: 'Ask for a new challenge and sign it with the node identity key (or the auditor key). If it is refused again, this relay does not count the node or auditor as active: not enrolled, not yet approved, revoked or removed.',
  },
  ORIGIN_REFUSED: {
    status: 403,
    hint: 'The node’s local service answers only on this machine, at the address `entraide serve` printed, and only to its own pages: open that address itself, not a link from another site.',
  },
  SESSION_MISMATCH: { status: 403, hint: 'A node may only act for itself: use that node’s own session.' },
  FORBIDDEN: { status: 403, hint: 'This session may not do that.' },
  // enrolment
  INVITATION_INVALID: { status: 403, hint: 'Ask the relay operator for a new invitation code.' },
  INVITATION_USED: { status: 409, hint: 'Each invitation works once: ask the relay operator for a new one.' },
  INVITATION_EXPIRED: { status: 410, hint: 'Ask the relay operator for a new invitation code.' },
  AUTHORITY_EXISTS: { status: 409, hint: 'This authority is already enrolled on the relay.' },
  ADDRESS_INVALID: {
    status: 400,
    hint: 'Addresses look like sn.moj@relay.example (lower-case letters, digits, dots, hyphens).',
  },
  // directory and envelopes
  NOT_FOUND: { status: 404, hint: 'Check the identifier.' },
  UNKNOWN_AUTHORITY: { status: 404, hint: 'Check the authority address; it must be enrolled on its relay.' },
  UNKNOWN_SENDER: { status: 403, hint: 'The sending node is not enrolled on this relay.' },
  UNKNOWN_RECIPIENT: { status: 422, hint: 'Check the recipient address and fetch the directory again.' },
  BAD_SIGNATURE: {
    status: 422,
    hint: 'The signature does not verify: the item was altered or signed with another key.',
  },
  ENVELOPE_ID_CONFLICT: {
    status: 409,
    hint: 'Another envelope already has this id; seal the message again.',
  },
  ENVELOPE_EXPIRED: { status: 422, hint: 'The envelope is past its time to live; seal the message again.' },
  BLOB_UNKNOWN: {
    status: 422,
    hint: 'The envelope names a document this node did not upload to the relay (or one already deleted): upload its files again and send again; nothing was stored.',
  },
  BLOB_ID_TAKEN: {
    status: 409,
    hint: 'Another document already has this blob id on the relay: seal the document again (a new id) and send again; nothing was stored.',
  },
  BLOB_COMPLETE: {
    status: 409,
    hint: 'The document’s upload is already complete: nothing more can be written to it. Send the item that names it.',
  },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    hint: 'Ask for one range of bytes inside the document (Range: bytes=N- or bytes=N-M), or for all of it without Range.',
  },
  BLOB_INCOMPLETE: {
    status: 409,
    transient: true,
    hint: 'A document the envelope names is not fully uploaded yet: finish the upload (the node resumes it where it stopped), then the envelope goes; nothing was stored.',
  },
  UNKNOWN_PEER: {
    status: 403,
    hint: 'The relays must know each other: each operator runs `entraide relay peer add` with the other’s domain, URL and key.',
  },
  TOKEN_REPLAYED: { status: 401, hint: 'A server-to-server token works once: sign each request anew.' },
  PEER_UNREACHABLE: {
    status: 503,
    transient: true,
    hint: 'The peer relay does not answer; envelopes for it wait in the outbox and are retried.',
  },
  KEY_EVENT_INVALID: {
    status: 422,
    hint: 'The key statement breaks a rule of the key log (named in the message); nothing was logged.',
  },
  NODE_REVOKED: {
    status: 403,
    hint: 'A revoked node stays revoked: a new node needs another node name, and an approval.',
  },
  NODE_EXISTS: { status: 409, hint: 'Choose another node name: this one is taken in the authority.' },
  JOIN_NOT_FOUND: {
    status: 404,
    hint: 'Check the join code, or ask the new node to run `entraide node join` again (codes expire after a day).',
  },
  JOIN_TICKET_INVALID: {
    status: 403,
    hint: 'A new node needs a join ticket: an officer of the authority runs `entraide node ticket` on one of its nodes and gives you what it prints (each ticket works once, for a day).',
  },
  NOT_APPROVED: {
    status: 403,
    hint: 'Show the join code to an officer whose node holds the master key: they run `entraide node approve <code>`.',
  },
  MASTER_KEY_REQUIRED: {
    status: 403,
    hint: 'Run this on a node that holds the authority master key (the first node, or one restored with `entraide keys import`).',
  },
  KEYLOG_INCONSISTENT: {
    status: 409,
    transient: true,
    hint: 'The relay showed a key log that contradicts what this node saw before: keep the output and tell the relay operator; nothing is sent meanwhile.',
  },
  KEYLOG_SPLIT_VIEW: {
    status: 409,
    transient: true,
    hint: 'Another node was shown a key log of this relay that cannot be the one shown here: the relay shows different histories to different nodes. Nothing is sent to its authorities meanwhile: keep `entraide keys check` (both signed heads), tell the relay operator and the other node’s officers, and resolve with `entraide keys check --resolve` (`--relay DOMAIN` for a peer relay) once explained.',
  },
  SAFETY_CODE_MISMATCH: {
    status: 409,
    hint: 'The codes differ: do not mark the counterpart verified; check with them by another channel.',
  },
  ENVELOPE_CLOCK_SKEW: {
    status: 422,
    hint: 'It is dated too far from the relay’s time: check this computer’s clock.',
  },
  // node side
  PROOF_INVALID: {
    status: 422,
    transient: true,
    hint: 'The log’s proof does not check: the relay may be showing a rewritten or forked log. Keep the evidence and tell the relay operator.',
  },
  CERTIFICATE_INVALID: {
    status: 422,
    hint: 'The node certificate does not verify under the authority master key.',
  },
  KEY_CHANGED: {
    status: 409,
    hint: 'Compare the safety code with the counterpart out of band before trusting the new key.',
  },
  NOT_A_RECIPIENT: { status: 422, hint: 'This envelope was not sealed for this node.' },
  NOT_ADDRESSED: {
    status: 422,
    hint: 'The envelope does not name this node’s authority among its recipients: it was routed here by mistake or on purpose; ask the sender what they meant to send.',
  },
  FORMAT_UNSUPPORTED: {
    status: 422,
    hint: 'The envelope is in a format this version does not read: upgrade this node or relay (`entraide --version`), then ask the sender to send it again.',
  },
  DECRYPT_FAILED: { status: 422, hint: 'The envelope cannot be opened with this node’s keys.' },
  KEY_COMMITMENT_MISMATCH: {
    status: 422,
    hint: 'The sender wrapped a different key for this node: treat the envelope as forged.',
  },
  CONTENT_INVALID: { status: 422, hint: 'The decrypted content is not a valid entraide item.' },
  FILE_DAMAGED: {
    status: 422,
    hint: 'The file’s bytes do not match what its sender sealed: it was altered or cut on the way or on disk, and it was neither shown nor kept. Ask the sender to send it again, and tell the relay operator.',
  },
  PASSPHRASE_WRONG: { status: 401, hint: 'Type the passphrase again (or set ENTRAIDE_PASSPHRASE).' },
  PASSPHRASE_REQUIRED: {
    status: 400,
    hint: 'Set ENTRAIDE_PASSPHRASE or run the command in a terminal to be asked.',
  },
  PASSPHRASE_TOO_SHORT: {
    status: 400,
    hint: 'Choose a passphrase of at least 12 characters: several unrelated words, e.g. four or five, are long and easy to remember. Nothing was created or changed.',
  },
  BACKUP_INVALID: { status: 422, hint: 'The backup file is damaged or was altered: use another copy of it.' },
  HOME_MISSING: {
    status: 400,
    hint: 'Run `entraide init` first, or point --home / ENTRAIDE_HOME at the node’s folder.',
  },
  HOME_CORRUPT: {
    status: 500,
    hint: 'A file of the node’s folder (named in the message) is damaged or cannot be read: check its permissions, or restore the folder from a backup copy (or restore the keys with `entraide keys import`); never edit it by hand.',
  },
  STORE_CORRUPT: {
    status: 500,
    hint: 'A sealed value of the node’s database (table, column and row named in the message) does not open under the database key of this node’s keystore: the keystore and node.db do not belong together, or node.db was damaged or edited. Nothing was changed: restore the node’s folder (keystore and database together) from a backup copy.',
  },
  HOME_LOCKED: {
    status: 409,
    hint: 'Another entraide process uses this folder; stop it first.',
    transient: true,
  },
  HOME_EXISTS: { status: 409, hint: 'This folder already holds a node; choose another --home.' },
  ADDRESS_IN_USE: {
    status: 409,
    hint: 'Another program listens on that port: stop it or choose another --port.',
  },
  TLS_FILES_INVALID: {
    status: 400,
    hint: 'Give --tls-cert a PEM certificate (its chain may follow it) and --tls-key the matching unencrypted PEM private key, both readable by the relay; the message names the file at fault.',
  },
  DATA_DIR_LOCKED: {
    status: 409,
    transient: true,
    hint: 'Another relay uses this data folder; stop it or choose another --data.',
  },
  RELAY_DATA_MISSING: {
    status: 400,
    hint: 'Point --data DIR or $ENTRAIDE_RELAY_DATA at the relay’s data folder, or start the relay once with `entraide relay start --data DIR` to create it.',
  },
  RELAY_DATA_CORRUPT: {
    status: 500,
    hint: 'A file of the relay’s data folder (named in the message) is damaged or cannot be read: stop the relay and restore the folder from its backup; never edit relay.json or relay-key.json by hand (peers pin the relay’s key).',
  },
  RELAY_UNREACHABLE: {
    status: 503,
    hint: 'Check the relay URL and that the relay is running.',
    transient: true,
  },
  RELAY_ANSWER_INVALID: {
    status: 502,
    hint: 'The relay answered with something that is not a valid entraide answer; nothing was used. Retry later; if it persists, tell the relay operator and keep the output.',
    transient: true,
  },
  PEER_KEY_CHANGED: {
    status: 409,
    hint: 'A peer relay’s key, as the home relay passes it on, is not the one pinned here and no rollover signed by the pinned key leads to it: nothing from that relay is trusted. Ask the peer relay’s operator for its key or fingerprint by another channel (telephone, in person), then pin it: `entraide relay pin DOMAIN KEY` (or `--fingerprint FP`); `entraide keys check` lists the alarm.',
  },
  UNVERIFIED_COUNTERPART: {
    status: 409,
    hint: 'The safety code of a recipient was never verified. Compare it (`entraide fingerprint AUTHORITY`) with the counterpart’s officer by telephone or in person, or with the network coordinator, then `entraide keys verify`; or confirm in a terminal, or pass --unverified-ok in scripts.',
  },
  RELAY_MISMATCH: {
    status: 409,
    hint: 'The relay shows another key than the one pinned here, and no rollover signed by the pinned key leads to it: do not go on. Check the URL, and ask the relay operator by another channel whether the relay key was replaced without `entraide relay key rotate`.',
  },
  // requests and their status
  REQUEST_NOT_FOUND: {
    status: 404,
    hint: 'List the requests with `entraide request list` to see their ids (an id prefix is enough).',
  },
  REQUEST_TYPE_UNKNOWN: {
    status: 400,
    hint: 'Use one of the request types listed by `entraide request types`.',
  },
  STATUS_UNKNOWN: { status: 400, hint: 'Use one of the statuses named in the message.' },
  TRANSITION_INVALID: {
    status: 409,
    hint: 'Check the request’s status with `entraide request show`; the message names what may follow.',
  },
  TRANSITION_NOT_OWNED: {
    status: 403,
    hint: 'Each side sets only its own steps: ask the counterpart, or send them a message on the request.',
  },
  REQUEST_CLOSED: {
    status: 409,
    hint: 'A closed, refused or withdrawn request stays so: send a new request.',
  },
  UPDATE_INCOMPLETE: { status: 400, hint: 'Add what the message asks for (--ground, --note) and try again.' },
  GROUND_PROHIBITED: {
    status: 400,
    hint: 'The Convention forbids refusing on this ground: execute the request, or refuse on a ground the request type allows (the message names them), with reasons.',
  },
  GROUND_NOT_FOR_TYPE: {
    status: 400,
    hint: 'Choose one of the grounds the message lists for this type of request.',
  },
  ALERT_HOOK_FAILED: {
    status: 424,
    hint: 'Check the alert command (run it by hand) or that the webhook answers, then run `entraide alert-hook test` again.',
  },
  STATS_EXPORT_INVALID: {
    status: 422,
    hint: 'Ask that authority for its statistics export again: this file is not signed by a node of the authority it names, was changed after signing, or was made for another network. Nothing was merged.',
  },
  CONSULTATION_REQUIRED: {
    status: 409,
    hint: 'Consult the requesting State first: propose conditions (status conditions_proposed, the conditions in a note); or give the reason there was no consultation (--without-consultation REASON).',
  },
  DEADLINE_PAST: { status: 400, hint: 'Give a date from today on (YYYY-MM-DD).' },
  FIELD_SCRIPT_MISMATCH: {
    status: 400,
    hint: 'Write the field in the request’s language, or change the request’s "language".',
  },
  REQUEST_INCOMPLETE: {
    status: 422,
    hint: 'Complete the fields listed, or send anyway with --despite-warnings.',
  },
  NOT_A_COUNTERPART: {
    status: 403,
    hint: 'Only the requesting and the requested authority take part in a request.',
  },
  HANDLING_RESTRICTED: {
    status: 403,
    hint: 'Its handling code keeps it for other officers; to open it anyway give --override REASON (the override is logged).',
  },
  FORWARD_FORBIDDEN: {
    status: 403,
    hint: 'Its handling code forbids forwarding, or needs the sender’s consent (--consent REF); to forward anyway give --override REASON (logged).',
  },
  EVIDENCE_NOT_FOUND: {
    status: 404,
    hint: 'Give the id of something this node sent (`entraide sent`, `entraide request show`).',
  },
  AUDITOR_MISSING: {
    status: 400,
    hint: 'Run `entraide audit keygen --relay URL --name NAME` first, or point --home / ENTRAIDE_HOME at the auditor’s folder.',
  },
  AUDITOR_CORRUPT: {
    status: 500,
    hint: 'An auditor credentials file (named in the message) is damaged: restore it from a backup copy, or run `entraide audit keygen` in a new folder and ask the relay operator to register the new key.',
  },
  RECONCILE_MISMATCH: {
    status: 409,
    hint: 'Envelopes in flight can differ for a few seconds: run it again. A lasting difference means one side’s record is incomplete: keep the output and ask the relay operators and the authority concerned.',
  },
  VERIFY_CANCELLED: {
    status: 409,
    hint: 'The check of the audit log was stopped before its end: start it again to know whether the log holds.',
  },
  MESSAGE_NOT_FOUND: { status: 404, hint: 'List the messages with `entraide inbox` to see their ids.' },
  // networks and meetings
  TIMEZONE_UNKNOWN: {
    status: 400,
    hint: 'Give an IANA time zone such as Africa/Dakar or Europe/Paris.',
  },
  TIME_INVALID: { status: 400, hint: 'Give a local date and time as YYYY-MM-DDTHH:MM.' },
  TIME_NONEXISTENT: {
    status: 400,
    hint: 'That local time is skipped by a daylight-saving change; use the time the message suggests.',
  },
  TIME_AMBIGUOUS: {
    status: 400,
    hint: 'That local time happens twice (clocks go back): say which one with --when earlier or --when later.',
  },
  DURATION_INVALID: {
    status: 400,
    hint: 'Give a duration such as 90m, 1h30m or PT1H30M (at most 24h), or a window such as 2w, 10d, 48h.',
  },
  WORKING_HOURS_INVALID: {
    status: 400,
    hint: 'Give a time zone, days 1 (Monday) to 7 (Sunday), and start before end as HH:MM.',
  },
  CONFERENCE_URL_INVALID: {
    status: 400,
    hint: 'The conference base URL must start with https:// (http://localhost only for tests).',
  },
  NOT_COORDINATOR: {
    status: 403,
    hint: 'Only a coordinator of the network’s current roster may issue its next version.',
  },
  ROSTER_STALE: { status: 409, hint: 'This roster version is not newer than the one already held.' },
  ROSTER_FORK: {
    status: 409,
    hint: 'The roster does not follow the one held (a version is missing, or its prev hash differs): fetch the missing versions, or keep both and ask the coordinators.',
  },
  ROSTER_INVALID: {
    status: 422,
    hint: 'A roster needs at least one coordinator, each a member, and no duplicate members.',
  },
  MEETING_INVALID: { status: 400, hint: 'Correct the meeting field named in the message.' },
  MEETING_STALE_SEQUENCE: {
    status: 409,
    hint: 'A newer version of this meeting is already held; this one is ignored.',
  },
  MEETING_NOT_ORGANIZER: {
    status: 403,
    hint: 'Only the organizing authority may update or cancel a meeting.',
  },
  MEETING_NOT_INVITED: {
    status: 403,
    hint: 'Only an invited authority may answer, and only to a meeting this node knows.',
  },
  MEETING_CANCELLED: { status: 409, hint: 'The meeting was cancelled; send a new invitation instead.' },
  USAGE: { status: 400, hint: 'See --help.' },
  INTERNAL: {
    status: 500,
    hint: 'Retry; if it persists, report it with the --debug output.',
    transient: true,
  },
} as const satisfies Record<string, { status: number; hint: string; transient?: true }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Whether a later attempt may succeed where this one failed (`transient: true` in the registry):
 * the other side was unreachable or overloaded, a session ran out, a log could not be checked
 * just now. Every other code is a verdict on the item itself, and retrying it unchanged is useless.
 */
export function isTransient(code: ErrorCode): boolean {
  return (ERROR_CODES[code] as { transient?: true }).transient === true;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

/** The one base error of entraide: a stable code, a message for people, an HTTP status. */
export class EntraideError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'EntraideError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }

  get hint(): string {
    return ERROR_CODES[this.code].hint;
  }

  /** Seconds after which a retry may succeed, for the transient refusals that know it (429, 503). */
  get retryAfter(): number | undefined {
    const v = this.details?.retryAfter;
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
  }

  /** The wire form, identical on HTTP and socket.io. */
  toJSON(): ErrorBody {
    const retryAfter = this.retryAfter;
    return {
      error: { code: this.code, message: this.message, ...(retryAfter ? { retryAfter } : {}) },
    };
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; retryAfter?: number };
}

/** Rebuilds a typed error from a wire body (HTTP response or socket acknowledgement). */
export function errorFromBody(body: unknown, fallbackStatus = 500): EntraideError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const err = (body as { error: unknown }).error;
    if (typeof err === 'object' && err !== null) {
      const { code, message, retryAfter } = err as {
        code?: unknown;
        message?: unknown;
        retryAfter?: unknown;
      };
      if (isErrorCode(code))
        return new EntraideError(
          code,
          typeof message === 'string' ? message : code,
          typeof retryAfter === 'number' ? { retryAfter } : undefined,
        );
    }
  }
  return new EntraideError('INTERNAL', `unexpected answer (status ${fallbackStatus})`);
}

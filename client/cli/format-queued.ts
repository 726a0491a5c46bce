/**
 * What the CLI says of an item left in the node's outbox because the relay did not answer: it is
 * sealed and stored, and goes out by itself (outbox.ts). Light, for the served path too.
 */
export const QUEUED_NOTE =
  'queued: the relay did not answer; it goes out by itself when the link returns (entraide serve or listen, or your next command)';

/** Says so on stderr when `sent` was queued (stdout keeps what scripts read: the id, the status). */
export function tellIfQueued(sent: { queued?: boolean } | undefined): void {
  if (sent?.queued) process.stderr.write(`${QUEUED_NOTE}\n`);
}

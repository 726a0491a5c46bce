/**
 * What a group of the service's routes is given: the open node, who asks, and how to tell open
 * pages that something changed. Each group of routes (routes-*.ts) is a fastify plugin registered
 * inside the guarded /api/v1 context of service-app.ts, so the Host, Origin, session and budget
 * checks run before any of them.
 */
import type { FastifyRequest } from 'fastify';
import type { AuthorityNode } from '../node.ts';

/** What an open page refreshes when told (server-sent events on /api/v1/events). */
/** `documents`: an item's documents were downloaded and verified (or refused). */
export type ChangeKind =
  'inbox' | 'sent' | 'requests' | 'keys' | 'meetings' | 'alarms' | 'documents' | 'audit';

export interface RouteContext {
  node: AuthorityNode;
  /**
   * Who made the request: the name the officer signed in under (browser session), or
   * `cli:<user name>` for the CLI's service token. Recorded with what they read, sent or changed.
   */
  officer(req: FastifyRequest): string;
  /** Tells open pages that something changed (what, and the item's id when there is one). */
  changed(what: ChangeKind, id?: string): void;
  /**
   * Runs one operation that needs the authority master key (approve, revoke, rotate): the
   * passphrase is checked against the keystore first (PASSPHRASE_WRONG, nothing done), and the
   * master key is held only while `operation` runs.
   */
  withMasterKey<T>(passphrase: string, operation: () => Promise<T>): Promise<T>;
}

/**
 * `entraide serve` on an auditor's folder (made by `audit keygen`): the web app's auditor view and
 * its API (audit-role.ts), with the same local security as an officer's service (loopback only,
 * Host and Origin checked, a session cookie of its own, service.json with the token).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { toBase64url } from '../../shared/bytes.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { EntraideError } from '../../shared/errors.ts';
import { AuditDesk } from '../audit/audit-desk.ts';
import { readAuditor, type Credentials } from '../audit/auditor.ts';
import { homePaths } from '../home.ts';
import { auditRole } from './audit-role.ts';
import { LiveEvents } from './live-events.ts';
import { checkServiceHost, DEFAULT_SERVICE_PORT, defaultWebRoot, type ServeOptions } from './serve.ts';
import { buildServiceApp } from './service-app.ts';
import { announceService, removeServiceFile, type ServiceFile } from './service-file.ts';
import { DEFAULT_IDLE_LOCK_MINUTES, Sessions } from './sessions.ts';

/** A folder with auditor credentials and no node: `serve` opens the auditor's view there. */
export function isAuditorHome(home: string): boolean {
  if (!existsSync(home) || existsSync(homePaths(home).config)) return false;
  return readdirSync(home).some((f) => /^auditor-.+\.json$/.test(f));
}

export interface RunningAuditService {
  desk: AuditDesk;
  app: FastifyInstance;
  file: ServiceFile;
  close(): Promise<void>;
}

export async function startAuditService(o: Omit<ServeOptions, 'onEvent'>): Promise<RunningAuditService> {
  const host = o.host ?? '127.0.0.1';
  checkServiceHost(host);
  const port = o.port ?? DEFAULT_SERVICE_PORT;
  await loadSodium();
  const creds = auditorAccounts(o.home, o.passphrase);
  const live = new LiveEvents();
  const sessions = new Sessions(o.idleLockMinutes ?? DEFAULT_IDLE_LOCK_MINUTES);
  sessions.onEnd((id) => live.locked(id));
  const sweep = setInterval(() => sessions.sweep(), 15_000);
  sweep.unref();
  const desk = new AuditDesk(o.home, creds, (what, id) => live.changed(what, id));
  const token = toBase64url(randomBytes(32));
  let bound = port;
  const app = await buildServiceApp({
    role: auditRole(desk, (p) => void auditorAccounts(o.home, p), creds[0]!.name),
    token,
    port: () => bound,
    sessions,
    live,
    webRoot: o.webRoot ?? defaultWebRoot(),
  });
  try {
    await app.listen({ host: host === 'localhost' ? '127.0.0.1' : host, port });
  } catch (err) {
    clearInterval(sweep);
    live.close();
    await app.close().catch(() => undefined);
    await desk.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new EntraideError('USAGE', `port ${port} on ${host} is taken: choose another with --port`);
    throw err;
  }
  const address = app.server.address();
  bound = typeof address === 'object' && address ? address.port : port;
  const file = announceService(o.home, host, bound, token);
  let closing: Promise<void> | undefined;
  return {
    desk,
    app,
    file,
    close: () =>
      (closing ??= (async () => {
        removeServiceFile(o.home, process.pid);
        clearInterval(sweep);
        live.close();
        await app.close();
        await desk.close();
      })()),
  };
}

/** Every account in the folder, opened with the passphrase (PASSPHRASE_WRONG otherwise). */
function auditorAccounts(home: string, passphrase: string): Credentials[] {
  const domains = readdirSync(home)
    .map((f) => /^auditor-(.+)\.json$/.exec(f)?.[1])
    .filter((d): d is string => d !== undefined);
  return domains.map((d) => readAuditor(home, passphrase, d));
}

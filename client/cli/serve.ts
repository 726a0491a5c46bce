/** `entraide serve`: the node as a local service (client/service/serve.ts). */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { DEFAULT_SERVICE_PORT, startService, type ServiceEvent } from '../service/serve.ts';
import { DEFAULT_IDLE_LOCK_MINUTES } from '../service/sessions.ts';
import { isAuditorHome, startAuditService } from '../service/audit-serve.ts';
import { homeDir, out, passphrase, SERVED_COMMANDS, type GlobalOptions } from './io.ts';

type Run = (fn: () => Promise<void>) => Promise<void>;

function eventLine(e: ServiceEvent): string | undefined {
  switch (e.kind) {
    case 'received': {
      const o = e.outcome;
      if (o.kind === 'message') return `received ${o.message.id} from ${o.message.sender}`;
      if (o.kind === 'receipts') return `${o.count} receipt(s) in ${o.envelopeId}`;
      return `REJECTED ${o.rejection.envelopeId} from ${o.rejection.sender} [${o.rejection.code}]`;
    }
    case 'connected':
      return 'connected to the relay';
    case 'disconnected':
      return `disconnected from the relay (${e.reason}); reconnecting…`;
    case 'alarm':
      return `alarm ${e.alarm.kind}: ${e.alarm.message}`;
    case 'error':
      return `entraide: ${e.error.message} [${e.error.code}]`;
  }
}

/** Resolves on Ctrl-C or SIGTERM. */
const stopped = () =>
  new Promise<void>((stop) => {
    process.once('SIGINT', () => stop());
    process.once('SIGTERM', () => stop());
  });

export function serveCommand(program: Command, run: Run): void {
  program
    .command('serve')
    .description(
      `run this node as a local service: unlocked once, connected to its relay, answering ${SERVED_COMMANDS} on this folder at once (Ctrl-C stops); on an auditor’s folder, the auditor’s view of the audit logs`,
    )
    .option('--port <n>', 'the local port', String(DEFAULT_SERVICE_PORT))
    .option(
      '--host <address>',
      'the address to listen on: this machine only (127.0.0.1, ::1, localhost)',
      '127.0.0.1',
    )
    .option(
      '--idle-lock <minutes>',
      'lock an officer’s web session after this many minutes without a request of theirs (1 to 480)',
      String(DEFAULT_IDLE_LOCK_MINUTES),
    )
    .action((o: { port: string; host: string; idleLock: string }) =>
      run(async () => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65_535)
          throw new EntraideError('USAGE', `--port ${o.port} is not a port number (0 to 65535)`);
        const idleLockMinutes = Number(o.idleLock);
        if (!Number.isInteger(idleLockMinutes) || idleLockMinutes < 1 || idleLockMinutes > 480)
          throw new EntraideError(
            'USAGE',
            `--idle-lock ${o.idleLock} is not a number of minutes from 1 to 480 (8 hours)`,
          );
        const home = homeDir(program.opts<GlobalOptions>());
        if (isAuditorHome(home)) {
          const audit = await startAuditService({
            home,
            passphrase: await passphrase(),
            host: o.host,
            port,
            idleLockMinutes,
          });
          out(
            `serving the auditor’s view of ${audit.desk
              .relays()
              .map((r) => r.domain)
              .join(', ')}`,
          );
          out(`  url:   ${audit.file.url}  (the web app: open it in a browser on this machine)`);
          out(`  idle lock: ${idleLockMinutes} min`);
          await stopped();
          return audit.close();
        }
        const service = await startService({
          home,
          passphrase: await passphrase(),
          host: o.host,
          port,
          idleLockMinutes,
          onEvent: (e) => {
            const line = eventLine(e);
            if (line) process.stderr.write(`${line}\n`);
          },
        });
        out(`serving ${service.node.address}`);
        out(`  url:   ${service.file.url}  (the web app: open it in a browser on this machine)`);
        out(`  idle lock: ${idleLockMinutes} min`);
        out(`  token: in ${home}/service.json (readable by this user only)`);
        out(`  ${SERVED_COMMANDS} on this folder now go through it; Ctrl-C stops it`);
        await stopped();
        await service.close();
      }),
    );
}

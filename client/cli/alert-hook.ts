/**
 * `entraide alert-hook set|show|clear|test`: who is woken when an `immediate` request arrives on
 * this node (client/alerts.ts). Read from and written to node.json: no passphrase is needed, and
 * nothing of a request ever reaches the hook.
 */
import type { Command } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { checkWebhook, raiseAlert } from '../alerts.ts';
import { readConfig, writeConfig } from '../home.ts';
import { homeDir, json, out, type GlobalOptions } from './io.ts';
import type { Run } from './fast-commands.ts';

export function alertHookCommands(program: Command, run: Run): void {
  const hook = program
    .command('alert-hook')
    .description('wake a person when an immediate request arrives: a command or a webhook, given no content');
  const home = () => homeDir(program.opts<GlobalOptions>());

  hook
    .command('set')
    .description('set the command run, or the webhook posted, on each immediate request (either or both)')
    .option(
      '--command <command>',
      'run with ENTRAIDE_ALERT, ENTRAIDE_ALERT_FROM, ENTRAIDE_ALERT_NODE, ENTRAIDE_ALERT_AT',
    )
    .option('--webhook <url>', 'posted {kind, from, node, at} as JSON; https://, or http:// on this machine')
    .action((o: { command?: string; webhook?: string }) =>
      run(async () => {
        if (!o.command && !o.webhook) throw new EntraideError('USAGE', 'give --command, --webhook, or both');
        const config = readConfig(home());
        const alerts = {
          ...(o.command ? { command: o.command } : {}),
          ...(o.webhook ? { webhook: checkWebhook(o.webhook) } : {}),
        };
        writeConfig(home(), { ...config, alerts });
        out(
          'set: immediate requests arriving on this node wake whoever the hook reaches (a running `entraide serve` reads it when it starts again)',
        );
      }),
    );
  hook
    .command('show')
    .description('the hook set on this node')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(async () => {
        const alerts = readConfig(home()).alerts ?? null;
        if (o.json) return json({ alerts });
        if (!alerts) return out('no alert hook: immediate requests wake nobody on this node');
        if (alerts.command) out(`command  ${alerts.command}`);
        if (alerts.webhook) out(`webhook  ${alerts.webhook}`);
      }),
    );
  hook
    .command('clear')
    .description('remove the hook')
    .action(() =>
      run(async () => {
        const { alerts: _gone, ...config } = readConfig(home());
        writeConfig(home(), config);
        out('cleared');
      }),
    );
  hook
    .command('test')
    .description('raise a test alert through the hook, as an immediate request would')
    .action(() =>
      run(async () => {
        const config = readConfig(home());
        if (!config.alerts) throw new EntraideError('USAGE', 'no alert hook is set: entraide alert-hook set');
        const failed = await raiseAlert(config.alerts, {
          kind: 'immediate_request',
          from: config.authority,
          node: config.node,
          at: new Date().toISOString(),
        });
        if (failed.length)
          throw new EntraideError('ALERT_HOOK_FAILED', `the hook failed: ${failed.join('; ')}`);
        out('the hook ran');
      }),
    );
}

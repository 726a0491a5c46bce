/** The `entraide` command line. */
import { Command, CommanderError } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { fail, type GlobalOptions } from './io.ts';
import { auditCommands } from './audit.ts';
import { backupCommands } from './backup.ts';
import { recordCommands } from './record.ts';
import { networkCommands } from './networks.ts';
import { meetingCommands } from './meetings.ts';
import { demoCommand } from './demo.ts';
import { keyCommands } from './keys.ts';
import { nodeKeyCommands } from './node-keys.ts';
import { nodeCommands } from './node-commands.ts';
import { relayCommands } from './relay.ts';
import { evidenceCommands } from './request-evidence.ts';
import { requestCommands } from './requests.ts';
import { serveCommand } from './serve.ts';

export async function main(argv: string[]): Promise<void> {
  // Output piped into a command that stops reading early (`| head`) ends quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = new Command();
  program
    .name('entraide')
    .description('Secure messaging for the central authorities of States')
    .version('0.1.0')
    .option('--home <dir>', 'the node’s folder (default: $ENTRAIDE_HOME)')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const run = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      fail(err, program.opts<GlobalOptions>().debug ?? false);
    }
  };
  relayCommands(program, run);
  nodeCommands(program, run);
  serveCommand(program, run);
  nodeKeyCommands(program, run);
  keyCommands(program, run);
  backupCommands(program, run);
  requestCommands(program, run);
  evidenceCommands(program, run);
  auditCommands(program, run);
  recordCommands(program, run);
  networkCommands(program, run);
  meetingCommands(program, run);
  demoCommand(program, run);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        process.exit(0);
      // commander already printed its one line ("error: required option …")
      process.exit(2);
    }
    fail(err instanceof Error ? err : new EntraideError('INTERNAL', String(err)), argv.includes('--debug'));
  }
}

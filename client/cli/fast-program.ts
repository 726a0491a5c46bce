/**
 * The `entraide` program's frame, shared by the full CLI (main.ts) and the served path (fast.ts) so
 * that both print the same help, version and errors and exit with the same codes.
 */
import { Command, CommanderError } from 'commander';
import { EntraideError } from '../../shared/errors.ts';
import { fail, type GlobalOptions } from './fast-io.ts';
import type { Run } from './fast-commands.ts';

/** The program with its global options, before any command is added; `run` reports a command's failure. */
export function newProgram(): { program: Command; run: Run } {
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

  const run: Run = async (fn) => {
    try {
      await fn();
    } catch (err) {
      fail(err, program.opts<GlobalOptions>().debug ?? false);
    }
  };
  return { program, run };
}

/** Parses `argv` and runs the command; help and version exit 0, commander's errors exit 2. */
export async function parseProgram(program: Command, argv: string[]): Promise<void> {
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
      // A key or a fingerprint may begin with '-' (base64url): it reads as an unknown option.
      const option = /unknown option '(-[A-Za-z0-9_-]{20,})'/.exec(err.message)?.[1];
      if (err.code === 'commander.unknownOption' && option)
        process.stderr.write(
          `a value that begins with '-', such as a key, goes after "--": … -- ${option.slice(0, 12)}…\n`,
        );
      process.exit(2);
    }
    fail(err instanceof Error ? err : new EntraideError('INTERNAL', String(err)), argv.includes('--debug'));
  }
}

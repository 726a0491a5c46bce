/**
 * The served path: while `entraide serve` runs on the command's folder, the commands it answers
 * (inbox, read, sent, send, request list, request show) are parsed and printed here with only
 * commander and the printing loaded, instead of the whole CLI with the node, Prisma and libsodium
 * (about 1.5 s of start-up on a small machine). Anything else goes to main.ts, as does any command
 * line this module does not read with certainty.
 */
import {
  downloadCommand,
  inboxCommand,
  readCommand,
  requestListCommand,
  requestShowCommand,
  sendCommand,
  sentCommand,
  servedDesk,
} from './fast-commands.ts';
import { homeDir } from './fast-io.ts';
import { liveService, serviceCalls } from './fast-service.ts';
import { newProgram, parseProgram } from './fast-program.ts';

/**
 * The folder of a served command in `argv`, or undefined when the command line is not plainly one:
 * global options (--home DIR, --home=DIR, --debug) first, then the command, and no --home after it.
 */
export function servedHome(argv: string[]): string | undefined {
  const args = argv.slice(2);
  let home: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--debug') continue;
    if (a === '--home') {
      home = args[++i];
      if (home === undefined) return undefined;
    } else if (a.startsWith('--home=')) home = a.slice('--home='.length);
    else break;
  }
  const [command, sub] = [args[i], args[i + 1]];
  const served =
    command === 'request'
      ? sub === 'list' || sub === 'show'
      : ['inbox', 'read', 'sent', 'send', 'download'].includes(command ?? '');
  if (!served || args.slice(i).some((a) => a === '--home' || a.startsWith('--home='))) return undefined;
  try {
    return homeDir({ home });
  } catch {
    return undefined; // no folder: main.ts says so
  }
}

/** Runs `argv` through the node's service and returns true, or returns false for main.ts to run it. */
export async function servedMain(argv: string[]): Promise<boolean> {
  const home = servedHome(argv);
  const live = home === undefined ? undefined : liveService(home);
  if (!live) return false;
  const { program, run } = newProgram();
  const desk = servedDesk(serviceCalls(live));
  // Declared as main.ts declares them (node-commands.ts, requests.ts), so help and errors match.
  sendCommand(program, run, () => desk);
  inboxCommand(program, run, () => desk);
  sentCommand(program, run, () => desk);
  readCommand(program, run, () => desk);
  downloadCommand(program, run, () => desk);
  const request = program.command('request').description('requests for cooperation and their status');
  requestListCommand(request, run, () => desk);
  requestShowCommand(request, run, () => desk);
  await parseProgram(program, argv);
  return true;
}

/** The `entraide` command line (fast.ts answers the served commands alone while a service runs). */
import { auditCommands } from './audit.ts';
import { backupCommands } from './backup.ts';
import { recordCommands } from './record.ts';
import { networkCommands } from './networks.ts';
import { meetingCommands } from './meetings.ts';
import { demoCommand } from './demo.ts';
import { directoryCommands } from './directory.ts';
import { alertHookCommands } from './alert-hook.ts';
import { keyCommands } from './keys.ts';
import { nodeKeyCommands } from './node-keys.ts';
import { nodeCommands } from './node-commands.ts';
import { relayCommands } from './relay.ts';
import { evidenceCommands } from './request-evidence.ts';
import { requestCommands } from './requests.ts';
import { serveCommand } from './serve.ts';
import { statsCommands } from './stats.ts';
import { newProgram, parseProgram } from './fast-program.ts';

export async function main(argv: string[]): Promise<void> {
  const { program, run } = newProgram();
  relayCommands(program, run);
  nodeCommands(program, run);
  serveCommand(program, run);
  nodeKeyCommands(program, run);
  keyCommands(program, run);
  backupCommands(program, run);
  requestCommands(program, run);
  directoryCommands(program, run);
  alertHookCommands(program, run);
  evidenceCommands(program, run);
  statsCommands(program, run);
  auditCommands(program, run);
  recordCommands(program, run);
  networkCommands(program, run);
  meetingCommands(program, run);
  demoCommand(program, run);
  await parseProgram(program, argv);
}

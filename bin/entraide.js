#!/usr/bin/env node
// The `entraide` command: runs the compiled CLI (built by `npm install` / `npm run build`). While
// the node's service runs, the commands it answers load only the served path (fast.js), not the
// whole CLI with the node: a fraction of the start-up.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/client/cli/main.js', import.meta.url);
const fast = new URL('../dist/client/cli/fast.js', import.meta.url);
if (!existsSync(cli) || !existsSync(fast)) {
  process.stderr.write(
    'entraide: the CLI is not built yet [USAGE]. Run `npm install` (or `npm run build`) in the checkout.\n',
  );
  process.exit(2);
}
const { servedMain } = await import(fast.href);
if (!(await servedMain(process.argv))) {
  const { main } = await import(cli.href);
  await main(process.argv);
}

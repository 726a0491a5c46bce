#!/usr/bin/env node
// The `entraide` command: runs the compiled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/client/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'entraide: the CLI is not built yet [USAGE]. Run `npm install` (or `npm run build`) in the checkout.\n',
  );
  process.exit(2);
}
const { main } = await import(cli.href);
await main(process.argv);

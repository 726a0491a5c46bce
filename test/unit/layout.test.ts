/**
 * The layout DESIGN.md describes, held by a test: no import circle anywhere in the code (type-only
 * imports count too), desks reach their node only through node-port.ts, the node never reaches into
 * the relay's storage, and no file grows into a god object.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PARTS = ['client', 'server', 'shared', 'prisma'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'generated' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Each source file (relative to the repository) with the relative files it imports, types included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of PARTS.flatMap((p) => sources(join(ROOT, p)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    graph.set(
      relative(ROOT, file),
      importedFiles
        .map((i) => i.fileName)
        .filter((f) => f.startsWith('.'))
        .map((f) => relative(ROOT, resolve(dirname(file), f))),
    );
  }
  return graph;
}

/** The strongly connected components of more than one file (Tarjan), i.e. the import circles. */
export function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const lines = (file: string) => readFileSync(join(ROOT, file), 'utf8').split('\n').length - 1;

describe('layout', () => {
  const graph = importGraph();

  it('finds a circle when there is one (the check can fail)', () => {
    const made = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(made)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(
      circles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('has no import circle under client/, server/, shared/ or prisma/, type-only imports included', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(circles(graph)).toEqual([]);
  });

  it('lets no module of the node import node.ts but its clients (CLI, audit, tools)', () => {
    const importers = [...graph].filter(([, deps]) => deps.includes('client/node.ts')).map(([f]) => f);
    const desks = importers.filter((f) => /^client\/[^/]+\.ts$/.test(f));
    // These take a whole node from the CLI and are not imported by it.
    expect(desks.sort()).toEqual(['client/forward.ts', 'client/join.ts', 'client/restore.ts']);
  });

  it('keeps the node out of the relay’s storage, and the core free of both', () => {
    for (const [file, deps] of graph) {
      if (file.startsWith('client/'))
        expect(
          deps.filter((d) => d.startsWith('server/storage/')),
          file,
        ).toEqual([]);
      if (file.startsWith('shared/')) {
        expect(
          deps.filter((d) => !d.startsWith('shared/')),
          file,
        ).toEqual([]);
      }
    }
  });

  it('keeps node.ts thin and every file of the node under 450 lines', () => {
    expect(lines('client/node.ts')).toBeLessThanOrEqual(350);
    const long = sources(join(ROOT, 'client'))
      .map((f) => relative(ROOT, f))
      .filter((f) => lines(f) > 450);
    expect(long).toEqual([]);
  });
});

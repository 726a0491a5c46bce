/**
 * Summarises a V8 .cpuprofile: self time by package or project folder, top functions by self
 * time, and inclusive time of the relay's own functions (time spent in them and in what they call).
 *
 *   node dist/bench/profile-summary.js bench/results/relay-b.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  idleMs: number;
  busyMs: number;
  byArea: { area: string; ms: number; share: number }[];
  topSelf: { fn: string; ms: number; share: number }[];
  topInclusive: { fn: string; ms: number; share: number }[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** Where a frame's code lives: a package, a project folder, node internals, or a V8 pseudo-frame. */
function area(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)')
      return functionName;
    return '(native)';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node internals';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) {
    const parts = url.slice(dist + '/dist/'.length).split('/');
    if (parts[0] === 'server' && parts[1] === 'storage' && parts[2] === 'generated')
      return 'prisma client (generated)';
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  return url ? `${name} ${shortUrl(url)}:${lineNumber + 1}` : name;
}

/** `project` picks the frames whose inclusive time is listed (by default the relay's own code). */
export function summariseProfile(
  file: string,
  top = 25,
  project: RegExp = / dist\/(server|shared|prisma)\//,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // The time until the next sample is the best estimate of this sample's share.
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    total += dt;
    const a = area(node);
    if (a === '(idle)') {
      idle += dt;
      continue;
    }
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const l = label(node);
    self.set(l, (self.get(l) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      const key = label(n);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  const ranked = (m: Map<string, number>, filter: (k: string) => boolean = () => true) =>
    [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([k, ms]) => ({ ms, share: busy > 0 ? ms / busy : 0, k }));
  return {
    file,
    sampledMs: total,
    idleMs: idle,
    busyMs: busy,
    byArea: ranked(areas).map(({ k, ms, share }) => ({ area: k, ms, share })),
    topSelf: ranked(self).map(({ k, ms, share }) => ({ fn: k, ms, share })),
    // Project code only (dist/): which of the relay's own steps the busy time goes through.
    topInclusive: ranked(inclusive, (k) => project.test(k)).map(({ k, ms, share }) => ({ fn: k, ms, share })),
  };
}

export function formatProfile(s: ProfileSummary, messages?: number): string {
  const per = (ms: number) => (messages ? `  ${((ms * 1000) / messages).toFixed(1).padStart(7)} µs/msg` : '');
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `profile ${s.file}`,
    `  sampled ${s.sampledMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms (${pct(s.sampledMs ? s.busyMs / s.sampledMs : 0)})${per(s.busyMs)}`,
    '  self time by area:',
    ...s.byArea.map((a) => `    ${pct(a.share)}  ${a.ms.toFixed(0).padStart(6)} ms${per(a.ms)}  ${a.area}`),
    '  top functions by self time:',
    ...s.topSelf.map((f) => `    ${pct(f.share)}  ${f.ms.toFixed(0).padStart(6)} ms${per(f.ms)}  ${f.fn}`),
    '  project functions by inclusive time:',
    ...s.topInclusive.map(
      (f) => `    ${pct(f.share)}  ${f.ms.toFixed(0).padStart(6)} ms${per(f.ms)}  ${f.fn}`,
    ),
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: profile-summary.js <file.cpuprofile> [messages]');
    process.exit(2);
  }
  const messages = process.argv[3] ? Number(process.argv[3]) : undefined;
  console.log(formatProfile(summariseProfile(file, 30), messages));
}

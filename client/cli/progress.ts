/**
 * A transfer's progress on a terminal: one line per document, redrawn at most ten times a second,
 * with the share done, the speed and the time left. Nothing is written when stderr is not a
 * terminal (scripts read stdout; their logs stay clean).
 */
import type { DocumentProgress } from '../documents/desk.ts';

const MiB = 1024 * 1024;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): DocumentProgress | undefined {
  if (!stream.isTTY) return undefined;
  let current = '';
  let started = 0;
  let from = 0;
  let drawn = 0;
  return (doc, done, total) => {
    const now = Date.now();
    const key = `${doc.blob}:${doc.name}`;
    if (key !== current) {
      if (current) stream.write('\n');
      current = key;
      started = now;
      from = done;
      drawn = 0;
    }
    if (done < total && now - drawn < 100) return;
    drawn = now;
    const seconds = (now - started) / 1000;
    const speed = seconds > 0 ? (done - from) / seconds : 0;
    const share = total > 0 ? Math.floor((done / total) * 100) : 100;
    const width = 24;
    const filled = Math.round((share / 100) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const left = speed > 0 ? (total - done) / speed : Infinity;
    stream.write(
      `\r${doc.name.slice(0, 40)} [${bar}] ${String(share).padStart(3)}% ${(speed / MiB).toFixed(1)} MiB/s ${clock(left)} left `,
    );
    if (done >= total) {
      stream.write('\n');
      current = '';
    }
  };
}

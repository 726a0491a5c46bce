/**
 * Waiting in tests: on a condition wherever one can be observed, and for a fixed time only where the
 * passing of time is itself what the test needs (a freshness window, a late duplicate).
 */

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every `intervalMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 20,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return;
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Reads `get` until `done` holds for its value, `intervalMs` apart, for at most `timeoutMs`; returns
 * the last value either way, so that the caller's assertions say what was missing.
 */
export async function pollUntil<T>(
  get: () => Promise<T>,
  done: (value: T) => boolean,
  { intervalMs = 100, timeoutMs = 10_000 }: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await get();
  while (!done(value) && Date.now() < end) {
    await sleep(intervalMs);
    value = await get();
  }
  return value;
}

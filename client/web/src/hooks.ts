import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';

/** What changed on the node (server-sent events), as counters the pages add to their effects. */
export type ChangeKind = 'inbox' | 'sent' | 'requests' | 'keys' | 'meetings' | 'alarms' | 'documents';

export interface LiveState {
  connected: boolean | null;
  /** Bumped each time the service says that `what` changed. */
  versions: Record<ChangeKind, number>;
}

export const LiveContext = createContext<LiveState>({
  connected: null,
  versions: { inbox: 0, sent: 0, requests: 0, keys: 0, meetings: 0, alarms: 0, documents: 0 },
});

export const useLive = (): LiveState => useContext(LiveContext);

/** A number that changes when any of `kinds` changed on the node. */
export function useChanged(...kinds: ChangeKind[]): string {
  const { versions } = useLive();
  return kinds.map((k) => versions[k]).join('.');
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `fetcher()` now and whenever `key` changes; a refresh keeps the data shown until the new
 * answer arrives (no flashing), and an answer for an older key is dropped.
 */
export function useLoad<T>(fetcher: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fetcherRef.current().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

/** `value` once it stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/** The time now, renewed every `ms` (for what depends on it: "starts in 3 hours"). */
export function useNow(ms = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export interface Running<T> {
  result: T | null;
  error: unknown;
  busy: boolean;
  /** Runs `work`: the earlier result and error cleared, busy until it settles. */
  run: (work: () => Promise<T>) => Promise<void>;
  clear: () => void;
}

/** One action a person starts from a page (a merge, a reconcile): its result, its error, busy meanwhile. */
export function useRun<T>(): Running<T> {
  const [state, setState] = useState<{ result: T | null; error: unknown; busy: boolean }>({
    result: null,
    error: null,
    busy: false,
  });
  const run = useCallback(async (work: () => Promise<T>) => {
    setState({ result: null, error: null, busy: true });
    try {
      setState({ result: await work(), error: null, busy: false });
    } catch (error) {
      setState({ result: null, error, busy: false });
    }
  }, []);
  const clear = useCallback(() => setState({ result: null, error: null, busy: false }), []);
  return { ...state, run, clear };
}

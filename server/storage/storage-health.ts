/**
 * The state of the relay's storage as /healthz reports it, found without ever waiting on the
 * database. A lock held by another writer is seen directly: the write lock is taken and given back
 * at once, without waiting. A full or failing disk is seen by the writes it refuses, so the last
 * such fault is remembered until a write succeeds again (or FAULT_MEMORY_MS passes with none);
 * a file system with almost no space left counts as full before any write fails.
 */
import { statfsSync } from 'node:fs';
import { storageFaultOf, type StorageFault } from '../../prisma/storage-faults.ts';

/** A full or failing disk met this long ago, with no write since, no longer counts. */
export const FAULT_MEMORY_MS = 30_000;

/** Below this much free space for the database, the relay reports its storage as full. */
export const MIN_FREE_BYTES = 1024 * 1024;

export type StorageState = 'ok' | StorageFault;

export interface StorageProbes {
  /** Takes and gives back the write lock without waiting: the fault if that fails. */
  writeLock: () => StorageFault | undefined;
  /** Free bytes for the database's folder, if known. */
  freeBytes: () => number | undefined;
}

export class StorageHealth {
  #fault: { kind: StorageFault; at: number } | undefined;

  constructor(
    private readonly probes: StorageProbes,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records `err` when it is a full or failing disk (a held lock is looked at directly); returns the fault. */
  noteFailure(err: unknown): StorageFault | undefined {
    const kind = storageFaultOf(err);
    if (kind === 'full' || kind === 'io') this.#fault = { kind, at: this.now() };
    return kind;
  }

  /** A write was committed: the storage works again. */
  noteSuccess(): void {
    this.#fault = undefined;
  }

  /** The storage as it is now; it never waits on a lock. */
  state(): StorageState {
    if (this.#fault && this.now() - this.#fault.at < FAULT_MEMORY_MS) return this.#fault.kind;
    const free = this.probes.freeBytes();
    if (free !== undefined && free < MIN_FREE_BYTES) return 'full';
    return this.probes.writeLock() ?? 'ok';
  }
}

/** Free bytes for unprivileged writers on the file system holding `dir`; undefined if unknown. */
export function freeBytesIn(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Ed25519 verification of submitted envelopes. Verifying costs ~100 µs, the largest single step of
 * accepting an envelope, so the relay runs it in a worker thread: submissions of one event-loop
 * turn go to the worker as one batch while the main thread keeps serving sockets and commits.
 * With `workers: 0` it verifies inline.
 */
import { Worker } from 'node:worker_threads';
import { sodium } from '../../shared/crypto/sodium.ts';
import { EntraideError } from '../../shared/errors.ts';

export interface SignatureVerifier {
  verify(message: Uint8Array, sig: Uint8Array, key: Uint8Array): Promise<boolean>;
  close(): Promise<void>;
}

export function createVerifier(workers: number): SignatureVerifier {
  return workers > 0 ? new WorkerVerifier() : new InlineVerifier();
}

class InlineVerifier implements SignatureVerifier {
  async verify(message: Uint8Array, sig: Uint8Array, key: Uint8Array): Promise<boolean> {
    try {
      return sodium().crypto_sign_verify_detached(sig, message, key);
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {}
}

interface Item {
  message: Uint8Array;
  sig: Uint8Array;
  key: Uint8Array;
}

const MAX_BATCH = 256;

class WorkerVerifier implements SignatureVerifier {
  private worker: Worker | undefined;
  private queue: { item: Item; resolve: (ok: boolean) => void; reject: (e: unknown) => void }[] = [];
  private readonly inFlight = new Map<
    number,
    { resolve: (ok: boolean) => void; reject: (e: unknown) => void }[]
  >();
  private nextId = 1;
  private scheduled = false;
  private closed = false;

  private start(): Worker {
    const worker = new Worker(new URL('./verify-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (msg: { id?: number; results?: boolean[] }) => {
      if (msg.id === undefined || !msg.results) return;
      const waiters = this.inFlight.get(msg.id);
      this.inFlight.delete(msg.id);
      waiters?.forEach((w, i) => w.resolve(msg.results![i] === true));
    });
    const fail = () => {
      // Whatever was on its way is refused, never accepted unverified; the next batch starts a new worker.
      if (this.worker === worker) this.worker = undefined;
      const err = new EntraideError('INTERNAL', 'signature verification was interrupted; submit again');
      for (const waiters of this.inFlight.values()) waiters.forEach((w) => w.reject(err));
      this.inFlight.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return worker;
  }

  verify(message: Uint8Array, sig: Uint8Array, key: Uint8Array): Promise<boolean> {
    if (this.closed) return Promise.reject(new EntraideError('INTERNAL', 'the relay is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ item: { message, sig, key }, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const id = this.nextId++;
    this.inFlight.set(
      id,
      batch.map((b) => ({ resolve: b.resolve, reject: b.reject })),
    );
    this.worker ??= this.start();
    this.worker.postMessage({ id, items: batch.map((b) => b.item) });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

/**
 * The document desk: files that items carry, out and in.
 * - Out: each file is sealed into the node's documents folder before the item is sealed (its blob
 *   id, key and hashes go into the signed content), stored with the item, and uploaded before the
 *   envelope that names it is submitted; an upload cut by a crash or a lost link resumes when the
 *   outbox sends the item again.
 * - In: the manifest is stored with the item (`pending`); each blob is downloaded (resumable),
 *   verified chunk by chunk against the key and hashes its sender signed, kept encrypted (`held`),
 *   reported to the relay, and once the item's files are all held a `downloaded` receipt is signed
 *   for the sender. A file that does not verify is `damaged` (FILE_DAMAGED) and never shown as held.
 * Plaintext is written only by `exportItem`, to the folder the officer names.
 */
import { mkdirSync } from 'node:fs';
import { rename, rm, open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EntraideError, isTransient } from '../../shared/errors.ts';
import { blobBytes } from '../../shared/files/file-crypto.ts';
import { manifestProblem, sanitizeFileName, type FileEntry } from '../../shared/files/manifest.ts';
import type { DocumentRow } from '../store/document-store.ts';
import type { NodeStore } from '../store/node-store.ts';
import { blobPath, openBlob, sealFile, type Attachment } from './seal-file.ts';
import { downloadBlob, reportHeld, uploadBlob, type BlobLink } from './transfer.ts';

export type { Attachment } from './seal-file.ts';

export interface DocumentDeskDeps {
  store: NodeStore;
  /** The node's documents folder. */
  dir: string;
  link: BlobLink;
  /** Signs and queues the `downloaded` receipt of an item whose files are all held. */
  downloaded(messageId: string, files: FileEntry[]): Promise<void>;
}

/** A transfer's progress, per document. */
export type DocumentProgress = (doc: { blob: string; name: string }, done: number, total: number) => void;

export class DocumentDesk {
  /** Transfers under way in this process, by blob: a second caller waits for the first. */
  private readonly running = new Map<string, Promise<void>>();
  /** Told how far each transfer is, when nobody asks for it otherwise (a progress bar on a terminal). */
  progress: DocumentProgress | undefined;

  constructor(private readonly deps: DocumentDeskDeps) {
    mkdirSync(deps.dir, { recursive: true, mode: 0o700 });
  }

  /** Seals each attachment into the documents folder; the entries go into the item's content. */
  async seal(attachments: readonly Attachment[], progress = this.progress): Promise<FileEntry[]> {
    const files: FileEntry[] = [];
    try {
      for (const a of attachments) {
        // A translation names its original by position (`#1`) before the original has a blob id.
        const translationOf = a.translationOf?.startsWith('#')
          ? files[Number(a.translationOf.slice(1)) - 1]?.blob
          : a.translationOf;
        if (a.translationOf && !translationOf)
          throw new EntraideError(
            'USAGE',
            `--translation-of ${a.translationOf} names no file attached before it`,
          );
        const entry = await sealFile(
          { ...a, ...(translationOf ? { translationOf } : {}) },
          this.deps.dir,
          (d, t) => progress?.({ blob: '', name: a.path }, d, t),
        );
        files.push(entry);
      }
      const problem = manifestProblem(files);
      if (problem) throw new EntraideError('USAGE', problem);
      return files;
    } catch (err) {
      await Promise.all(files.map((f) => rm(blobPath(this.deps.dir, f.blob), { force: true })));
      throw err;
    }
  }

  /** Records an item's files, synchronously, inside the transaction that stores the item. */
  record(messageId: string, direction: 'out' | 'in', files: readonly FileEntry[]): void {
    if (files.length === 0) return;
    this.deps.store.documents.add(
      messageId,
      direction,
      files,
      direction === 'out' ? 'sealed' : 'pending',
      new Date().toISOString(),
    );
  }

  /** The documents of an item, with where their transfers stand. */
  of(messageId: string): DocumentRow[] {
    return this.deps.store.documents.of(messageId);
  }

  /** Uploads every blob an envelope names that the relay does not hold whole yet (before submitting it). */
  async ensureUploaded(blobs: readonly string[], progress = this.progress): Promise<void> {
    for (const blob of blobs) {
      const rows = this.deps.store.documents.byBlob(blob);
      const row = rows[0];
      if (!row) throw new EntraideError('BLOB_UNKNOWN', `this node holds no document ${blob} to upload`);
      if (rows.every((r) => r.state === 'uploaded')) continue;
      await this.once(blob, () =>
        uploadBlob(this.deps.link, blob, blobPath(this.deps.dir, blob), (d, t) =>
          progress?.({ blob, name: row.entry.name }, d, t),
        ),
      );
      this.deps.store.documents.setState(blob, 'uploaded', new Date().toISOString());
    }
  }

  /**
   * Downloads and verifies the documents of one item (or of every item when none is named) that
   * this node does not hold yet; returns the rows as they stand after. A transient failure (the
   * relay out of reach) is thrown after the others were tried; a damaged file is marked as such.
   */
  async fetch(messageId?: string, progress = this.progress): Promise<DocumentRow[]> {
    const pending = (messageId ? this.of(messageId) : this.deps.store.documents.inState('pending')).filter(
      (r) => r.direction === 'in' && r.state === 'pending',
    );
    let transient: unknown;
    const touched = new Set<string>();
    for (const row of pending) {
      try {
        await this.once(row.blob, () => this.fetchOne(row, progress));
        touched.add(row.messageId);
      } catch (err) {
        if (err instanceof EntraideError && !isTransient(err.code) && err.code !== 'RELAY_UNREACHABLE') {
          this.deps.store.documents.setState(row.blob, 'damaged', new Date().toISOString(), err.code);
          touched.add(row.messageId);
        } else transient ??= err;
      }
    }
    for (const id of touched) {
      const rows = this.of(id);
      if (rows.length > 0 && rows.every((r) => r.state === 'held'))
        await this.deps.downloaded(
          id,
          rows.map((r) => r.entry),
        );
    }
    if (transient) throw transient;
    return messageId ? this.of(messageId) : [];
  }

  private async fetchOne(row: DocumentRow, progress?: DocumentProgress): Promise<void> {
    const { dir, link } = this.deps;
    const part = `${blobPath(dir, row.blob)}.part`;
    await downloadBlob(link, row.blob, blobBytes(row.entry.size), part, (d, t) =>
      progress?.({ blob: row.blob, name: row.entry.name }, d, t),
    );
    try {
      await openBlob(part, row.entry);
    } catch (err) {
      // Damaged bytes are not kept: a later download (after the sender sent again) starts afresh.
      await rm(part, { force: true });
      throw err;
    }
    const handle = await openFile(part, 'r+');
    await handle.sync().finally(() => handle.close());
    await rename(part, blobPath(dir, row.blob));
    this.deps.store.documents.setState(row.blob, 'held', new Date().toISOString());
    await reportHeld(link, row.blob).catch(() => undefined);
  }

  /**
   * Writes an item's documents, decrypted and verified, into `outDir` under their names (a name
   * taken gets a number); a file is renamed into place only once every chunk verified.
   */
  async exportItem(messageId: string, outDir: string, progress = this.progress): Promise<string[]> {
    const rows = this.of(messageId);
    if (rows.length === 0) throw new EntraideError('NOT_FOUND', `item ${messageId} carries no documents`);
    await this.fetch(messageId, progress);
    const paths: string[] = [];
    mkdirSync(outDir, { recursive: true });
    for (const row of this.of(messageId)) {
      if (row.direction === 'in' && row.state !== 'held') {
        throw new EntraideError(
          row.state === 'damaged' ? 'FILE_DAMAGED' : 'RELAY_UNREACHABLE',
          row.state === 'damaged'
            ? `the document ${row.entry.name} did not verify (${row.error}); it was not kept: ask the sender to send it again`
            : `the document ${row.entry.name} is not downloaded yet: try again when the relay answers`,
        );
      }
      const target = await freeName(outDir, sanitizeFileName(row.entry.name));
      const temp = `${target}.entraide-part`;
      const out = await openFile(temp, 'w', 0o600);
      try {
        await openBlob(blobPath(this.deps.dir, row.blob), row.entry, async (plain) => {
          await out.write(plain);
        });
        await out.sync();
      } catch (err) {
        await out.close();
        await rm(temp, { force: true });
        throw err;
      }
      await out.close();
      await rename(temp, target);
      paths.push(target);
    }
    return paths;
  }

  /**
   * One document of an item, decrypted chunk by chunk into `sink` (a page's download): fetched
   * first when it is not held yet; a file that does not verify is refused before any byte goes.
   */
  async stream(
    messageId: string,
    blob: string,
    sink: (plain: Uint8Array) => Promise<void>,
  ): Promise<FileEntry> {
    let row = this.of(messageId).find((r) => r.blob === blob);
    if (!row) throw new EntraideError('NOT_FOUND', `item ${messageId} carries no document ${blob}`);
    if (row.direction === 'in' && row.state === 'pending') {
      await this.fetch(messageId);
      row = this.of(messageId).find((r) => r.blob === blob)!;
    }
    if (row.direction === 'in' && row.state !== 'held') {
      throw new EntraideError(
        row.state === 'damaged' ? 'FILE_DAMAGED' : 'RELAY_UNREACHABLE',
        `the document ${row.entry.name} is ${row.state === 'damaged' ? 'damaged' : 'not downloaded yet'}`,
      );
    }
    await openBlob(blobPath(this.deps.dir, blob), row.entry, sink);
    return row.entry;
  }

  /** One transfer per blob at a time in this process. */
  private once(blob: string, run: () => Promise<void>): Promise<void> {
    let p = this.running.get(blob);
    if (!p) {
      p = run().finally(() => this.running.delete(blob));
      this.running.set(blob, p);
    }
    return p;
  }
}

/** The desk of a node: its documents folder, its relay link, its receipts. */
export function documentDeskOf(
  store: NodeStore,
  dir: string,
  relay: { http: { baseUrl: string }; token(): Promise<string>; invalidate(): void },
  receipts: { downloaded(messageId: string, files: FileEntry[]): Promise<void> },
): DocumentDesk {
  return new DocumentDesk({
    store,
    dir,
    link: { baseUrl: relay.http.baseUrl, token: () => relay.token(), invalidate: () => relay.invalidate() },
    downloaded: (id, files) => receipts.downloaded(id, files),
  });
}

/** `dir/name`, or `dir/name (2)` and so on when a file of that name exists. */
async function freeName(dir: string, name: string): Promise<string> {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    const candidate = join(dir, n === 1 ? name : `${stem} (${n})${ext}`);
    try {
      const h = await openFile(candidate, 'wx');
      await h.close();
      await rm(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Moving blobs between the node and its relay, resumable both ways:
 * - up, the tus protocol (1.0.0, creation) by hand: POST makes the blob under the id the node chose
 *   when it sealed the document (the same POST again finds it), HEAD says how many bytes the relay
 *   holds, PATCH streams the rest from disk;
 * - down, HTTP range requests: the bytes already in the `.part` file are not asked for again.
 * A transfer cut at any point (a node or relay killed, the link lost) goes on from where it stopped
 * the next time; every failure to reach the relay is RELAY_UNREACHABLE, which callers retry.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntraideError, errorFromBody } from '../../shared/errors.ts';
import type { Progress } from './seal-file.ts';

export interface BlobLink {
  baseUrl: string;
  /** The node's session token (logged in on demand). */
  token(): Promise<string>;
  /** Forgets the token after the relay refused it. */
  invalidate(): void;
}

const TUS = { 'tus-resumable': '1.0.0' };
/** How long a request may go without an answer before it counts as cut (not the whole transfer). */
const ANSWER_MS = 30_000;

async function call(
  link: BlobLink,
  path: string,
  init: RequestInit & { duplex?: 'half' },
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(new URL(path, link.baseUrl), {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          authorization: `Bearer ${await link.token()}`,
        },
        // Never followed (the relay does not redirect), and it matters for memory too: to be able to
        // follow one, fetch keeps a copy of a streamed body until the answer, a whole upload.
        redirect: 'error',
      });
    } catch (err) {
      if (err instanceof EntraideError) throw err;
      throw new EntraideError(
        'RELAY_UNREACHABLE',
        `the transfer to or from ${link.baseUrl} was cut; it resumes where it stopped`,
      );
    }
    if (res.status === 401) {
      link.invalidate();
      // Asked again once with a fresh token, unless a body already went (the caller resumes).
      if (attempt === 0 && init.body === undefined) continue;
    }
    return res;
  }
}

async function failure(res: Response): Promise<EntraideError> {
  const text = await res.text().catch(() => '');
  try {
    return errorFromBody(JSON.parse(text), res.status);
  } catch {
    return new EntraideError(
      res.status >= 500 || res.status === 409 ? 'RELAY_UNREACHABLE' : 'RELAY_ANSWER_INVALID',
      `the relay answered HTTP ${res.status} to a document transfer${text ? `: ${text.trim().slice(0, 100)}` : ''}`,
    );
  }
}

/** The bytes of `blob` the relay holds, creating the upload first when it has none. */
async function uploadOffset(link: BlobLink, blob: string, size: number): Promise<number> {
  const head = await call(link, `/v1/blobs/${blob}`, {
    method: 'HEAD',
    headers: TUS,
    signal: AbortSignal.timeout(ANSWER_MS),
  });
  if (head.ok) return Number(head.headers.get('upload-offset'));
  if (head.status !== 404) throw await failure(head);
  const created = await call(link, '/v1/blobs', {
    method: 'POST',
    headers: {
      ...TUS,
      'upload-length': String(size),
      'upload-metadata': `blob ${Buffer.from(blob).toString('base64')}`,
    },
    signal: AbortSignal.timeout(ANSWER_MS),
  });
  if (created.status !== 201) throw await failure(created);
  return 0;
}

/** Uploads the blob at `path` (its size is its length) until the relay holds all of it. */
export async function uploadBlob(
  link: BlobLink,
  blob: string,
  path: string,
  progress?: Progress,
): Promise<void> {
  const size = (await stat(path)).size;
  for (let round = 0; round < 3; round++) {
    const offset = await uploadOffset(link, blob, size);
    if (offset === size) return;
    progress?.(offset, size);
    const source = createReadStream(path, { start: offset, highWaterMark: 256 * 1024 });
    const counted = source.pipe(counter(offset, size, progress));
    const res = await call(link, `/v1/blobs/${blob}`, {
      method: 'PATCH',
      headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
      body: Readable.toWeb(counted) as ReadableStream,
      duplex: 'half',
    }).finally(() => source.destroy());
    // 409: the relay holds another offset than we thought (a PATCH cut mid-way): ask again.
    if (res.status === 409) continue;
    if (res.status !== 204) throw await failure(res);
    if (Number(res.headers.get('upload-offset')) === size) return;
  }
  throw new EntraideError(
    'RELAY_UNREACHABLE',
    `the upload of document ${blob} did not complete; it resumes where it stopped`,
  );
}

/**
 * Downloads the blob into `partPath` until it holds `size` bytes, asking only for the bytes it
 * does not hold yet. Bytes beyond `size` (a damaged part) are dropped first.
 */
export async function downloadBlob(
  link: BlobLink,
  blob: string,
  size: number,
  partPath: string,
  progress?: Progress,
): Promise<void> {
  let have = 0;
  try {
    have = (await stat(partPath)).size;
  } catch {
    have = 0;
  }
  if (have > size) {
    await truncate(partPath, 0);
    have = 0;
  }
  while (have < size) {
    const res = await call(link, `/v1/blobs/${blob}`, {
      method: 'GET',
      headers: { range: `bytes=${have}-` },
      signal: AbortSignal.timeout(ANSWER_MS),
    });
    if (res.status !== 206) throw await failure(res);
    const body = res.body;
    if (!body) throw new EntraideError('RELAY_ANSWER_INVALID', 'the relay answered a download without bytes');
    const sink = createWriteStream(partPath, { flags: 'a', mode: 0o600 });
    try {
      await pipeline(Readable.fromWeb(body as never), counter(have, size, progress), sink);
    } catch {
      throw new EntraideError(
        'RELAY_UNREACHABLE',
        `the download of document ${blob} was cut; it resumes where it stopped`,
      );
    }
    have = (await stat(partPath)).size;
    if (have > size) {
      await truncate(partPath, 0);
      throw new EntraideError(
        'FILE_DAMAGED',
        `the relay sent more bytes of document ${blob} than its sender sealed`,
      );
    }
  }
}

/** Passes bytes on, telling `progress` how far the transfer is. */
function counter(from: number, total: number, progress?: Progress): Transform {
  let done = from;
  return new Transform({
    transform(chunk: Buffer, _enc, next) {
      done += chunk.length;
      progress?.(done, total);
      next(null, chunk);
    },
  });
}

/** Tells the relay that this node holds the blob complete and verified. */
export async function reportHeld(link: BlobLink, blob: string): Promise<void> {
  const res = await call(link, `/v1/blobs/${blob}/held`, {
    method: 'POST',
    signal: AbortSignal.timeout(ANSWER_MS),
  });
  if (!res.ok && res.status !== 404) throw await failure(res);
}

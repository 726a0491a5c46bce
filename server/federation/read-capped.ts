/**
 * Reads a peer's answer as text, at most `maxBytes` of it: a peer that answers with more (or says
 * it will, in Content-Length) is cut off, and the caller gets null instead of a string that would
 * not fit in memory.
 */
import { concatBytes, fromUtf8 } from '../../shared/bytes.ts';

export async function readCapped(res: Response, maxBytes: number): Promise<string | null> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return fromUtf8(concatBytes(...chunks));
}

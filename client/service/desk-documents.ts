/**
 * Documents as the officers' clients see them: each file of an item with its role, language, size,
 * hash and where its transfer stands (never its key), and the export of an item's files, decrypted
 * and verified, into a folder the officer names.
 */
import type { FileRole } from '../../shared/files/manifest.ts';
import type { Receipt } from '../../shared/receipts/receipt.ts';
import type { AuthorityNode } from '../node.ts';
import type { DocumentState } from '../store/document-store.ts';

export interface DocumentView {
  blob: string;
  name: string;
  mediaType: string;
  size: number;
  /** SHA-256 of the plaintext, base64url: what a court can compare with the exported file. */
  sha256: string;
  role: FileRole;
  language: string | null;
  translationOf: string | null;
  /** out: sealed, uploaded; in: pending, held, damaged. */
  state: DocumentState;
  /** Why a received file was refused (FILE_DAMAGED...). */
  error: string | null;
  /**
   * A sent document: each recipient node that signed a `downloaded` receipt naming this file with
   * the hashes sealed here (it holds exactly these bytes, verified), and when.
   */
  downloadedBy?: { node: string; at: string }[];
}

export interface ExportedFile {
  name: string;
  path: string;
  size: number;
  sha256: string;
  role: FileRole;
}

/** The documents of an item, without their keys. */
export function documentsOf(node: AuthorityNode, messageId: string): DocumentView[] {
  const rows = node.documents.of(messageId);
  const receipts =
    rows[0]?.direction === 'out'
      ? node.store.requests
          .receiptsFor({ id: messageId, sender: node.address })
          .filter((r) => r.kind === 'downloaded')
          .map((r) => JSON.parse(r.signed) as Receipt)
      : [];
  return rows.map((r) => ({
    blob: r.blob,
    name: r.entry.name,
    mediaType: r.entry.mediaType,
    size: r.entry.size,
    sha256: r.entry.sha256,
    role: r.entry.role,
    language: r.entry.language ?? null,
    translationOf: r.entry.translationOf ?? null,
    state: r.state,
    error: r.error,
    ...(r.direction === 'out'
      ? {
          downloadedBy: receipts
            .filter((rc) =>
              rc.files?.some(
                (f) =>
                  f.blob === r.blob &&
                  f.sha256 === r.entry.sha256 &&
                  f.ciphertextSha256 === r.entry.ciphertextSha256,
              ),
            )
            .map((rc) => ({ node: rc.node, at: rc.at })),
        }
      : {}),
  }));
}

/** The documents of a request's items (the request itself, supplements, steps, messages), by item. */
export interface ItemDocuments {
  envelope: string;
  what: string;
  at: string;
  files: DocumentView[];
}

export function requestDocuments(
  node: AuthorityNode,
  story: { envelope?: string; what: string; at: string }[],
): ItemDocuments[] {
  const seen = new Set<string>();
  const out: ItemDocuments[] = [];
  for (const e of story) {
    if (!e.envelope || seen.has(e.envelope)) continue;
    seen.add(e.envelope);
    const files = documentsOf(node, e.envelope);
    if (files.length > 0) out.push({ envelope: e.envelope, what: e.what, at: e.at, files });
  }
  return out;
}

/** Downloads what is missing (resumable), then writes each file, verified, into `outDir`. */
export async function downloadView(
  node: AuthorityNode,
  messageId: string,
  outDir: string,
  override?: string,
): Promise<{ files: ExportedFile[] }> {
  // Its handling code decides who may open an item's files as it does its text (reading.ts).
  const id = node.read(messageId, { override }).id;
  const paths = await node.documents.exportItem(id, outDir);
  const rows = node.documents.of(id);
  return {
    files: rows.map((r, i) => ({
      name: r.entry.name,
      path: paths[i]!,
      size: r.entry.size,
      sha256: r.entry.sha256,
      role: r.entry.role,
    })),
  };
}

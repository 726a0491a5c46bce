/** The documents part of the service's API, as the pages see it (api.ts holds the rest). */
const BASE = '/api/v1';

/** A document an item carries, as the service shows it (never its key). */
export interface DocumentView {
  blob: string;
  name: string;
  mediaType: string;
  size: number;
  sha256: string;
  role: string;
  language: string | null;
  translationOf: string | null;
  state: 'sealed' | 'uploaded' | 'pending' | 'held' | 'damaged';
  error: string | null;
  downloadedBy?: { node: string; at: string }[];
}

/** The documents of one item of a request. */
export interface ItemDocuments {
  envelope: string;
  what: string;
  at: string;
  files: DocumentView[];
}

/** Where a page uploads a file (tus), to be sealed by the service as it arrives. */
export const UPLOADS_URL = `${BASE}/uploads`;

/** Where a page downloads a document, decrypted and verified by the service. */
export function documentUrl(messageId: string, blob: string): string {
  return `${BASE}/messages/${encodeURIComponent(messageId)}/documents/${encodeURIComponent(blob)}`;
}

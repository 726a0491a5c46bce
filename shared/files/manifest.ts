/**
 * The file manifest: what recipients find inside the signed content about each file it carries.
 * Each entry names the blob on the relay, the key that opens it (file-crypto.ts), the plaintext size
 * the opener needs, and two SHA-256 digests: of the plaintext (what the officer saw) and of the
 * blob as stored (what a receipt or an audit can name without the key). The manifest is signed with
 * the content, so a relay can neither swap a blob nor change its key, size or name.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LIMITS } from '../limits.ts';
import { literals } from '../protocol/literals.ts';
import { FILE_ROLES, type FileRole } from './roles.ts';
import { B64, BlobId } from '../protocol/schemas.ts';

/** Defined with the envelope, which lists the blobs its content names. */
export { BlobId };

export { FILE_ROLES, type FileRole };

/** No path separator and no control character (C0, DEL, C1): a name, never a path. */
const FILE_NAME_PATTERN = '^[^/\\\\\\u0000-\\u001f\\u007f-\\u009f]+$';
/** type/subtype as RFC 6838 spells its restricted names, lower-cased by the sender. */
const MEDIA_TYPE_PATTERN = '^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$';
/** The same pattern as LanguageTag in shared/protocol/content.ts. */
const LanguageTag = Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' });

export const FileEntry = Type.Object(
  {
    blob: BlobId,
    key: B64(32, 'secretstream key of this file'),
    name: Type.String({ minLength: 1, maxLength: 255, pattern: FILE_NAME_PATTERN }),
    mediaType: Type.String({ maxLength: 127, pattern: MEDIA_TYPE_PATTERN }),
    size: Type.Integer({ minimum: 0, maximum: LIMITS.maxFileBytes, description: 'plaintext bytes' }),
    sha256: B64(32, 'SHA-256 of the plaintext'),
    ciphertextSha256: B64(32, 'SHA-256 of the whole blob as stored: header, chunks and padding'),
    role: literals(FILE_ROLES),
    /** Only for role 'translation': the blob of the original, carried in the same manifest. */
    translationOf: Type.Optional(BlobId),
    language: Type.Optional(LanguageTag),
  },
  { additionalProperties: false },
);
export type FileEntry = Static<typeof FileEntry>;

export const FileManifest = Type.Array(FileEntry, { maxItems: LIMITS.maxFilesPerItem });
export type FileManifest = Static<typeof FileManifest>;

/**
 * The rules a schema cannot say, for a manifest that already passed FileManifest: blob ids are
 * unique, and a translation (and only a translation) names its original, another entry of the
 * same manifest that is not itself a translation. Returns why the manifest is refused, or null.
 */
export function manifestProblem(files: FileEntry[]): string | null {
  const byBlob = new Map<string, FileEntry>();
  for (const [i, f] of files.entries()) {
    if (byBlob.has(f.blob)) return `file ${i + 1} (${f.name}) has the blob id of another file`;
    byBlob.set(f.blob, f);
  }
  for (const [i, f] of files.entries()) {
    const which = `file ${i + 1} (${f.name})`;
    if (f.role !== 'translation') {
      if (f.translationOf !== undefined) return `${which} names an original but is not a translation`;
      continue;
    }
    if (f.translationOf === undefined) return `${which} is a translation but names no original`;
    if (f.translationOf === f.blob) return `${which} is named as its own original`;
    const original = byBlob.get(f.translationOf);
    if (!original) return `${which} is a translation of a file this manifest does not carry`;
    if (original.role === 'translation')
      return `${which} is a translation of another translation: name the original`;
  }
  return null;
}

const MAX_NAME_BYTES = 255;
/** An extension longer than this is part of the name, not something to keep when shortening. */
const MAX_EXTENSION_BYTES = 32;
const DIRECTORY_SEPARATORS = /[/\\]/;
/** C0, DEL, C1, and the bidirectional embeddings, overrides and isolates that can disguise an extension. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;
const ILLEGAL_ON_WINDOWS = /[<>:"|?*]/gu;
/** Half of a UTF-16 surrogate pair without its other half: no file system can spell it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const DOTS_AND_SPACES_AT_ENDS = /^[\s.]+|[\s.]+$/gu;
const FALLBACK_NAME = 'file';
const encoder = new TextEncoder();

/**
 * A received file's name made safe to write in the node's folder: the last path part only, no
 * control or bidi-override character, `_` for what Windows forbids and for lone surrogates, no dots or spaces at the ends,
 * never empty, `.` or `..`, and at most 255 UTF-8 bytes, shortened before its extension. Letters
 * of every script are kept (NFC). Windows device names (CON, NUL…) are left to the writer.
 */
export function sanitizeFileName(name: string): string {
  const parts = name.normalize('NFC').split(DIRECTORY_SEPARATORS);
  const last = parts.reverse().find((p) => p.replace(INVISIBLE, '').trim() !== '') ?? '';
  const cleaned = last
    .replace(INVISIBLE, '')
    .replace(ILLEGAL_ON_WINDOWS, '_')
    .replace(LONE_SURROGATE, '_')
    .replace(DOTS_AND_SPACES_AT_ENDS, '');
  if (cleaned === '') return FALLBACK_NAME;
  return shorten(cleaned);
}

/** Cuts a name to MAX_NAME_BYTES of UTF-8 at a grapheme boundary, keeping a short extension. */
function shorten(name: string): string {
  if (encoder.encode(name).length <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  const keep = encoder.encode(extension).length <= MAX_EXTENSION_BYTES ? extension : '';
  const stem = keep ? name.slice(0, dot) : name;
  const room = MAX_NAME_BYTES - encoder.encode(keep).length;
  let out = '';
  let bytes = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(stem)) {
    const size = encoder.encode(segment).length;
    if (bytes + size > room) break;
    out += segment;
    bytes += size;
  }
  const trimmed = out.replace(DOTS_AND_SPACES_AT_ENDS, '');
  return (trimmed === '' ? FALLBACK_NAME : trimmed) + keep;
}

/**
 * Reading a file of a node's or a relay's folder: its text, bounded, parsed as JSON and checked
 * against its schema, every fault reported with the code the caller names and the file's name.
 * The messages name the field at fault, never its value nor the parser's message (either could
 * quote key material).
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { EntraideError, type ErrorCode } from '../errors.ts';
import { check } from './validate.ts';

/**
 * The value of `text` (the content of `file`). Preconditions: `text` is at most `maxChars`
 * characters, is JSON, and fits `schema`; otherwise throws `code` naming `file` (and the field).
 */
export function parseFileText<S extends TSchema>(
  schema: S,
  text: string,
  opts: { file: string; code: ErrorCode; maxChars: number },
): Static<S> {
  const { file, code, maxChars } = opts;
  if (text.length > maxChars) throw new EntraideError(code, `${file} is larger than ${maxChars} characters`);
  if (text.trim() === '') throw new EntraideError(code, `${file} is empty`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EntraideError(code, `${file} is not JSON (it may be truncated)`);
  }
  try {
    return check(schema, value, ROOT);
  } catch (err) {
    if (err instanceof EntraideError && err.code === 'SCHEMA_INVALID')
      throw new EntraideError(code, `${file} is damaged: ${fieldMessage(err.message)}`);
    throw err;
  }
}

/** Stands for the file's top level in the validator's message, so that fields read `relay.domain`. */
const ROOT = '\u0000';

function fieldMessage(message: string): string {
  if (message.startsWith(`${ROOT}.`)) return message.slice(ROOT.length + 1);
  if (message.startsWith(ROOT)) return `the file${message.slice(ROOT.length)}`;
  return message;
}

/** The system's code of a failed read (ENOENT, EACCES, EISDIR...): never its message, which repeats the path. */
export function systemErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unreadable';
}

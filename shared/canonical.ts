/** RFC 8785 JSON Canonicalization Scheme: the one byte form that is signed and used as AAD. */
import canonicalizeJson from 'canonicalize';
import { utf8 } from './bytes.ts';
import { EntraideError } from './errors.ts';

export function canonicalString(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalizeJson(value);
  } catch (err) {
    // NaN, Infinity and lone surrogates have no canonical form: that is bad input, not a fault.
    throw new EntraideError(
      'SCHEMA_INVALID',
      `value cannot be canonicalised: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (text === undefined) throw new EntraideError('SCHEMA_INVALID', 'value cannot be canonicalised');
  return text;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalString(value));
}

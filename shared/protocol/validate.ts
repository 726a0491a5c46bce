/** One validator for every schema in the core: throws SCHEMA_INVALID naming the first bad field. */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { EntraideError } from '../errors.ts';

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const cache = new WeakMap<TSchema, ValidateFunction>();

/** The compiled validator of a schema (cached), for callers that raise their own error code. */
export function validatorOf(schema: TSchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

export function describeAjvError(errors: ValidateFunction['errors'], what: string): string {
  const e = errors?.[0];
  if (!e) return `${what} is invalid`;
  const where = e.instancePath ? `${what}${e.instancePath.replace(/\//g, '.')}` : what;
  if (e.keyword === 'additionalProperties') {
    return `${where} has an unexpected field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (e.keyword === 'required') {
    return `${where} is missing the field "${(e.params as { missingProperty: string }).missingProperty}"`;
  }
  if (e.keyword === 'pattern') return `${where} has the wrong format or length`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

export function isValid<S extends TSchema>(schema: S, value: unknown): value is Static<S> {
  return validatorOf(schema)(value) as boolean;
}

export function check<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  const fn = validatorOf(schema);
  if (!fn(value)) throw new EntraideError('SCHEMA_INVALID', describeAjvError(fn.errors, what));
  return value as Static<S>;
}

/** A schema that accepts exactly the given strings, typed as their union (TypeBox loses it with map). */
import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';

export function literals<const T extends readonly string[]>(
  values: T,
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{
    -readonly [K in keyof T]: TLiteral<T[K]>;
  }>;
}

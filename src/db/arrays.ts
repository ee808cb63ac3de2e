/**
 * Arrays as single statement parameters (drizzle would spread a JS array into a list of parameters, one per
 * element, and a statement text per length). A key list beside a `jsonb_to_recordset` join (`id = any(…)`)
 * also tells the planner how few rows it touches: it takes such a function for 100 rows and would rather
 * scan the whole table than look each key up in its index.
 */
import { sql, type SQL } from 'drizzle-orm';

/** A `bigint[]` parameter (database ids and Telegram ids). */
export function bigints(values: readonly number[]): SQL {
  return sql`${bigintArray(values)}::bigint[]`;
}

/** A `text[]` parameter, every element quoted. */
export function texts(values: readonly string[]): SQL {
  return sql`${textArray(values)}::text[]`;
}

/** The array literal of `bigints` (a parameter's value, cast with `::bigint[]` in the statement). */
export function bigintArray(values: readonly number[]): string {
  for (const value of values) if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer id: ${String(value)}`);
  return `{${values.join(',')}}`;
}

/** The array literal of `texts` (a parameter's value, cast with `::text[]` in the statement). */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

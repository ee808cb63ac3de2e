/**
 * `Idempotency-Key`s of `POST /api/requests` (the `api_requests` table). A key is claimed inside the
 * transaction that starts the request (`FlowService.start`'s `within`), so a repeat, even one racing the
 * first, never starts a second request; the response is stored after the commit and replayed as it was.
 */
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Tx } from '../db/client.js';
import { apiRequests } from '../db/schema.js';

/** 1-255 visible ASCII characters (a UUID is typical). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

/** Thrown inside the starting transaction when the key is already taken: the start is undone. */
export class KeyTakenError extends Error {
  override name = 'KeyTakenError';
}

export interface StoredRequest {
  readonly requestHash: string;
  readonly flowId: number;
  readonly response: { status: number; body: unknown } | null;
}

/** sha256 of a request's validated body, in a fixed order. */
export function requestHash(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export async function findKey(db: Db, key: string): Promise<StoredRequest | null> {
  const [row] = await db.select().from(apiRequests).where(eq(apiRequests.key, key));
  if (!row) return null;
  return { requestHash: row.requestHash, flowId: row.flowId, response: (row.response as StoredRequest['response']) ?? null };
}

/** Within the start's transaction: takes the key for this flow, or throws {@link KeyTakenError}. */
export async function claimKey(tx: Tx, key: string, hash: string, flowId: number): Promise<void> {
  const result = await tx.execute(sql`
    insert into api_requests (key, request_hash, flow_id) values (${key}, ${hash}, ${flowId}::bigint)
    on conflict (key) do nothing returning 1 as n`);
  if (rowsOf(result).length === 0) throw new KeyTakenError('idempotency key taken');
}

export async function storeResponse(db: Db, key: string, response: { status: number; body: unknown }): Promise<void> {
  await db.update(apiRequests).set({ response }).where(eq(apiRequests.key, key));
}

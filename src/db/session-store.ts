import { eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { botSessions } from './schema.js';

/** Telegraf's AsyncSessionStore on the bot_sessions table: menu state lives in our own migrations. */
export function sessionStore<T>(db: Db) {
  return {
    async get(key: string): Promise<T | undefined> {
      const [row] = await db.select({ value: botSessions.value }).from(botSessions).where(eq(botSessions.key, key));
      return row ? (row.value as T) : undefined;
    },
    async set(key: string, value: T): Promise<void> {
      await db
        .insert(botSessions)
        .values({ key, value, updatedAt: new Date() })
        .onConflictDoUpdate({ target: botSessions.key, set: { value, updatedAt: new Date() } });
    },
    async delete(key: string): Promise<void> {
      await db.delete(botSessions).where(eq(botSessions.key, key));
    },
  };
}

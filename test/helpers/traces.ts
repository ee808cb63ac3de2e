import { asc, eq, inArray, or, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../src/db/client.js';
import { answers, flows, inbox, messages, outbox, people, resultDeliveries } from '../../src/db/schema.js';
import { appTables } from '../../src/playground/wipe.js';

/** Everything the database holds about a client, table by table (to compare before and after). */
export async function traces(db: Db, clientId: number) {
  const ids = (await db.select({ id: flows.id }).from(flows).where(eq(flows.clientId, clientId))).map((r) => r.id);
  const ofFlows = (column: typeof answers.flowId | typeof messages.flowId | typeof outbox.flowId | typeof resultDeliveries.flowId) =>
    ids.length === 0 ? sql`false` : inArray(column, ids);
  return {
    person: await db.select().from(people).where(eq(people.id, clientId)),
    flows: await db.select().from(flows).where(eq(flows.clientId, clientId)).orderBy(asc(flows.id)),
    answers: await db.select().from(answers).where(ofFlows(answers.flowId)).orderBy(asc(answers.id)),
    messages: await db
      .select()
      .from(messages)
      .where(or(eq(messages.chatId, clientId), ofFlows(messages.flowId)))
      .orderBy(asc(messages.id)),
    inbox: await db.select().from(inbox).where(eq(inbox.chatId, clientId)).orderBy(asc(inbox.updateId)),
    outbox: await db
      .select()
      .from(outbox)
      .where(or(eq(outbox.chatId, clientId), ofFlows(outbox.flowId)))
      .orderBy(asc(outbox.id)),
    deliveries: await db.select().from(resultDeliveries).where(ofFlows(resultDeliveries.flowId)).orderBy(asc(resultDeliveries.id)),
  };
}

/** Every row of every table as text: where a name could still hide. */
export async function everything(db: Db): Promise<string> {
  const parts: string[] = [];
  for (const table of appTables()) {
    const result = await db.execute(sql.raw(`select coalesce(json_agg(t)::text, '') as rows from "${table}" t`));
    parts.push(rowsOf<{ rows: string }>(result)[0]?.rows ?? '');
  }
  return parts.join('\n');
}

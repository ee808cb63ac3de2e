import { asc, eq } from 'drizzle-orm';
import type { Locale } from '../../machines/definition.js';
import { validAnswer } from '../fixtures/answers.js';

export { validAnswer };
import { loadCatalogueFile, type Catalogue } from '../../src/config/catalogue.js';
import type { Db } from '../../src/db/client.js';
import { outbox, people } from '../../src/db/schema.js';
import { FlowService, type FlowServiceDeps } from '../../src/flows/service.js';

export const OPERATOR = 1000;

let defaultCatalogue: Promise<Catalogue> | undefined;
export function catalogue(): Promise<Catalogue> {
  defaultCatalogue ??= loadCatalogueFile('config/catalogue.yaml');
  return defaultCatalogue;
}

/** A client who has started the bot (so it may write to them). */
export async function addClient(db: Db, id: number, options: { name?: string; language?: Locale } = {}): Promise<number> {
  await db
    .insert(people)
    .values({ id, firstName: options.name ?? `Client ${id}`, languageCode: options.language ?? 'en', startedAt: new Date() })
    .onConflictDoNothing();
  return id;
}

export async function addOperator(db: Db, id = OPERATOR): Promise<number> {
  await db
    .insert(people)
    .values({ id, firstName: 'Olga', lastName: 'Operator', languageCode: 'en', role: 'operator', startedAt: new Date() })
    .onConflictDoNothing();
  return id;
}

export async function newService(
  db: Db,
  options: {
    catalogue?: () => Catalogue;
    clock?: () => Date;
    operatorsFor?: FlowServiceDeps['operatorsFor'];
    staffIds?: FlowServiceDeps['staffIds'];
    onRecorded?: FlowServiceDeps['onRecorded'];
    onOutbox?: FlowServiceDeps['onOutbox'];
  } = {},
): Promise<FlowService> {
  const current = await catalogue();
  return new FlowService({
    db,
    catalogue: options.catalogue ?? (() => current),
    defaultLocale: 'en',
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.operatorsFor ? { operatorsFor: options.operatorsFor } : {}),
    ...(options.staffIds ? { staffIds: options.staffIds } : {}),
    ...(options.onRecorded ? { onRecorded: options.onRecorded } : {}),
    ...(options.onOutbox ? { onOutbox: options.onOutbox } : {}),
  });
}

/** Texts of the outbox rows for a chat, oldest first. */
export async function outboxTexts(db: Db, chatId: number): Promise<string[]> {
  const rows = await db.select().from(outbox).where(eq(outbox.chatId, chatId)).orderBy(asc(outbox.id));
  return rows.map((r) => {
    const p = r.payload as { text?: string; caption?: string };
    return `${r.method}: ${p.text ?? p.caption ?? ''}`;
  });
}

let nextUpdate = 1;
/** A fresh Telegram update id. */
export function updateId(): number {
  return nextUpdate++;
}

export const text = (value: string) => ({ kind: 'text' as const, text: value });
export const photo = (n = 1) => ({
  kind: 'photo' as const,
  fileId: `photo-${n}`,
  fileUniqueId: `uphoto-${n}`,
  mimeType: 'image/jpeg',
  size: 50_000,
});
export const document = (mimeType = 'application/pdf', n = 1) => ({
  kind: 'document' as const,
  fileId: `doc-${n}`,
  fileUniqueId: `udoc-${n}`,
  mimeType,
  size: 50_000,
  fileName: 'file.pdf',
});

/**
 * Answers every prompt of the client's active flow with valid answers, confirms, and (if the
 * request is reviewed) accepts as the operator. Returns the final status.
 */
export async function driveToEnd(flows: FlowService, clientId: number, operatorId = OPERATOR): Promise<string> {
  const first = await flows.activeFlow(clientId);
  if (!first) return 'none';
  for (let guard = 0; guard < 50; guard++) {
    const active = await flows.flow(first.id);
    if (!active?.view) return active?.status ?? 'none';
    const view = active.view;
    if (view.kind === 'prompt') {
      const result = await flows.answer({ clientId, answer: validAnswer(view.step, guard), updateId: updateId() });
      if (!result.ok) throw new Error(`answer refused: ${result.refusal.code}`);
      if (result.value.invalid) throw new Error(`answer invalid: ${result.value.invalid.code}`);
    } else if (view.kind === 'confirm') {
      const result = await flows.confirm({ clientId, updateId: updateId() });
      if (!result.ok) throw new Error(`confirm refused: ${result.refusal.code}`);
    } else if (view.kind === 'review') {
      const result = await flows.accept({ operatorId, flowId: active.id, updateId: updateId() });
      if (!result.ok) throw new Error(`accept refused: ${result.refusal.code}`);
      return result.value.status;
    } else {
      return view.kind;
    }
  }
  throw new Error('flow did not finish in 50 steps');
}

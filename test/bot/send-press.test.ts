/**
 * What an operator's press of a request button on a client card costs the database while the bot handles
 * it: the one start command — BEGIN, the lock and the read (pipelined into one round trip on PostgreSQL),
 * the write, COMMIT — and nothing else: no menu session read or write, no ownership read before it (the
 * command checks under its row lock), no binding of the client after it, no reads of the client and their
 * flows to redraw the card (the command redraws it through the outbox), no separate log of the press.
 * The inbox's and the sender's own statements are not the bot's and are not counted here (the command hands
 * the rows it wrote to the sender with its commit: no pass reads them back); round trips are counted in
 * test/flows/round-trips.test.ts. See docs/performance.md.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Update } from 'telegraf/types';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from '../../src/ui/callback-data.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('an operator’s send press on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('is the start command alone: five statements, and the card and the client follow', async () => {
    const pressing = new AsyncLocalStorage<true>();
    const sent: { query: string; connection: number | undefined; pressing: boolean }[] = [];
    h = await startHarness(engine, {
      onStatement: (query, connection) =>
        sent.push({ query: query.replace(/\s+/g, ' ').trim(), connection, pressing: pressing.getStore() === true }),
    });
    const anna = await h.client('Anna');
    await openClientCard(h.operator, 'Anna');

    // What the bot sends while it handles the press; what the sender does with the rows handed to it runs outside the count.
    let handled: Promise<void> | undefined;
    const handleUpdate = h.app.bot.handleUpdate.bind(h.app.bot);
    h.app.bot.handleUpdate = (update: Update, response) => {
      const data = 'callback_query' in update && 'data' in update.callback_query ? parse(update.callback_query.data) : null;
      if (data?.kind !== 'send') return handleUpdate(update, response);
      handled = pressing.run(true, () => handleUpdate(update, response));
      return handled;
    };
    const handed: { chatId: number; method: string }[] = [];
    const hand = h.app.sender.hand.bind(h.app.sender);
    h.app.sender.hand = (rows) => {
      if (pressing.getStore()) handed.push(...rows.map((r) => ({ chatId: r.chatId, method: r.method })));
      pressing.exit(() => hand(rows));
    };
    const from = sent.length;

    const query = await h.operator.press('Personal data');
    expect((await h.operator.waitForCallbackAnswer(query)).text).toBe('“Personal data” sent to Anna.');
    await handled;
    const statements = ofThePress(sent.slice(from));
    expect(statements, statements.join('\n')).toHaveLength(5);
    expect(statements[0]).toMatch(/^begin\b/i);
    expect(statements[1]).toMatch(/insert into inbox .* for update/i);
    expect(statements[2]).toMatch(/nextval/i);
    expect(statements[3]).toMatch(/insert into flows/i);
    expect(statements[4]).toMatch(/^commit\b/i);
    // The press's messages reach the sender whole, with the commit: the client's first step, the operator's
    // notice and the card's redraw.
    expect(handed).toEqual(
      expect.arrayContaining([
        { chatId: anna.id, method: 'sendMessage' },
        { chatId: h.operator.id, method: 'editMessageText' },
      ]),
    );

    // The client gets the first step, the operator the notice, and the card (redrawn through the outbox) the request.
    await anna.waitForMessage(/full name/);
    await h.operator.waitFor((messages) => messages.some((m) => /^👤 Anna/.test(m.text ?? '') && /Now: Personal data/.test(m.text ?? '')));
    expect((await h.app.directory.get(anna.id))?.operatorId).toBe(h.operator.id);
  });
});

/**
 * The statements asked for while the press was handled. postgres.js sends a statement queued behind
 * another (pipelined in a transaction before the connection has prepared it) when the connection is free,
 * outside the press's async context: every statement of the press's transaction's connection between its
 * BEGIN and COMMIT is the press's too (the connection is reserved for the transaction meanwhile).
 */
function ofThePress(sent: readonly { query: string; connection: number | undefined; pressing: boolean }[]): string[] {
  const statements: string[] = [];
  let transaction: number | undefined;
  for (const s of sent) {
    const inTransaction = transaction !== undefined && s.connection === transaction;
    if (!s.pressing && !inTransaction) continue;
    statements.push(s.query);
    if (s.pressing && /^begin\b/i.test(s.query)) transaction = s.connection;
    else if (/^commit\b/i.test(s.query) && inTransaction) transaction = undefined;
  }
  return statements;
}

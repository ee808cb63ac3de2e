/**
 * What an operator's press of a request button on a client card costs the database while the bot handles
 * it: the one start command — BEGIN, the lock and the read (pipelined into one round trip on PostgreSQL),
 * the write, COMMIT — and nothing else: no menu session read or write, no ownership read before it (the
 * command checks under its row lock), no binding of the client after it, no reads of the client and their
 * flows to redraw the card (the command redraws it through the outbox), no separate log of the press.
 * The inbox's and the sender's own statements are not the bot's and are not counted here (the command hands
 * the rows it wrote to the sender with its commit: no pass reads them back); round trips are counted in
 * test/flows/round-trips.test.ts. See docs/performance.md. A client's answer is its one command too: the
 * decision whether the message is an answer or a question for the operator is taken under its lock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Update } from 'telegraf/types';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from '../../src/ui/callback-data.js';
import { ENGINES, type Engine } from '../helpers/db.js';
import { openClientCard, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('what one update costs the bot on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('an operator’s send press is the start command alone: five statements, and the card and the client follow', async () => {
    const counted = await counting(engine);
    h = counted.h;
    const anna = await h.client('Anna');
    await openClientCard(h.operator, 'Anna');

    const { statements, handed } = await counted.of(
      (update) => 'callback_query' in update && 'data' in update.callback_query && parse(update.callback_query.data)?.kind === 'send',
      async () => {
        const query = await h.operator.press('Personal data');
        expect((await h.operator.waitForCallbackAnswer(query)).text).toBe('“Personal data” sent to Anna.');
      },
    );
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

  it('a client’s answer is the answer command alone, the open card redrawn in its write: four statements, no read before it', async () => {
    const counted = await counting(engine);
    h = counted.h;
    const anna = await h.client('Anna');
    await openClientCard(h.operator, 'Anna');
    await h.operator.press('Personal data');
    await anna.waitForMessage(/step 1 of 3/);

    const { statements, handed } = await counted.of(
      (update) => 'message' in update,
      async () => {
        await anna.send('Anna Petrova');
        await anna.waitForMessage(/step 2 of 3/);
      },
    );
    expect(statements, statements.join('\n')).toHaveLength(4);
    expect(statements[0]).toMatch(/^begin\b/i);
    expect(statements[1]).toMatch(/insert into inbox .* for update/i);
    expect(statements[2]).toMatch(/^with fu as \(update flows set snapshot/i);
    expect(statements[3]).toMatch(/^commit\b/i);
    expect(handed).toEqual([
      { chatId: anna.id, method: 'sendMessage' },
      { chatId: h.operator.id, method: 'editMessageText' },
    ]);
    // The card in the operator's chat shows the new step, drawn by the answer's own write.
    await h.operator.waitFor((messages) => messages.some((m) => /^👤 Anna/.test(m.text ?? '') && /\(2\/3\)/.test(m.text ?? '')));
  });
});

/** What the bot sent while it handled an update: its statements, and the outbox rows it handed to the sender. */
interface Counted {
  readonly statements: string[];
  readonly handed: { chatId: number; method: string }[];
}

/**
 * A harness that records every statement, and `of`: what the bot sends while it handles the updates `ours`
 * picks during `act` (what the sender does with the rows handed to it runs outside the count).
 */
async function counting(
  engine: Engine,
): Promise<{ h: Harness; of: (ours: (update: Update) => boolean, act: () => Promise<void>) => Promise<Counted> }> {
  const inUpdate = new AsyncLocalStorage<true>();
  const sent: { query: string; connection: number | undefined; pressing: boolean }[] = [];
  const h = await startHarness(engine, {
    onStatement: (query, connection) =>
      sent.push({ query: query.replace(/\s+/g, ' ').trim(), connection, pressing: inUpdate.getStore() === true }),
  });
  const of = async (ours: (update: Update) => boolean, act: () => Promise<void>) => {
    let handled: Promise<void> | undefined;
    const handleUpdate = h.app.bot.handleUpdate.bind(h.app.bot);
    h.app.bot.handleUpdate = (update: Update, response) => {
      if (!ours(update)) return handleUpdate(update, response);
      handled = inUpdate.run(true, () => handleUpdate(update, response));
      return handled;
    };
    const kick = h.app.sender.kick.bind(h.app.sender);
    h.app.sender.kick = () => inUpdate.exit(kick);
    const handed: { chatId: number; method: string }[] = [];
    const hand = h.app.sender.hand.bind(h.app.sender);
    h.app.sender.hand = (rows) => {
      if (inUpdate.getStore()) handed.push(...rows.map((r) => ({ chatId: r.chatId, method: r.method })));
      inUpdate.exit(() => hand(rows));
    };
    const from = sent.length;
    await act();
    await handled;
    return { statements: ofTheUpdate(sent.slice(from)), handed };
  };
  return { h, of };
}

/**
 * The statements asked for while the update (a press, an answer) was handled. postgres.js sends a statement queued behind
 * another (pipelined in a transaction before the connection has prepared it) when the connection is free,
 * outside the update’s async context: every statement of its transaction’s connection between its
 * BEGIN and COMMIT is the update’s too (the connection is reserved for the transaction meanwhile).
 */
function ofTheUpdate(sent: readonly { query: string; connection: number | undefined; pressing: boolean }[]): string[] {
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

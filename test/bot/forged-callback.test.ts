import { afterEach, describe, expect, it } from 'vitest';
import { pack } from '../../src/ui/callback-data.js';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

describe.each(ENGINES)('a forged button press on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('a client sending operator callback data gets "not allowed" and nothing changes', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    const other = await h.client('Boris');

    await sendRequest(operator, 'Anna', 'Passport photo');
    const prompt = await client.waitForMessage(/Passport photo · step 1 of 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    await client.waitForMessage(/sent to the operator/);
    await operator.waitForMessage(/📥 Passport photo from Anna/);

    const [before] = await h.app.flows.flowsOf(client.id);
    if (!before) throw new Error('no flow');
    expect(before.status).toBe('in_review');
    const ref = { flow: before.id, version: before.version };

    for (const data of [
      pack({ kind: 'accept', ...ref }),
      pack({ kind: 'reset', ...ref }),
      pack({ kind: 'cancel', ...ref }),
      pack({ kind: 'send', client: client.id, requestRef: 0 }),
    ]) {
      const query = await client.pressData(data, prompt.messageId);
      const answer = await client.waitForCallbackAnswer(query);
      expect(answer).toMatchObject({ text: 'Sorry, this is not available to you.', showAlert: true });
    }
    // Someone else's client button (a confirm of Anna's request) does nothing either.
    const otherQuery = await other.pressData(pack({ kind: 'confirm', ...ref }), other.lastMessage()?.messageId ?? 0);
    expect((await other.waitForCallbackAnswer(otherQuery)).text).toBe('This button is no longer valid.');

    const [after] = await h.app.flows.flowsOf(client.id);
    expect(after?.status).toBe('in_review');
    expect(after?.version).toBe(before.version);
    expect((await h.app.flows.eventsOf(before.id)).map((e) => e.event)).toEqual(['START', 'ANSWER']);
    expect(await h.app.flows.flowsOf(other.id)).toEqual([]);
    // The operator saw no accepted or cancelled card; the client no closing message.
    expect(client.messages().some((m) => /accepted|cancelled/.test(m.text ?? ''))).toBe(false);
    expect(operator.messages().some((m) => /Accepted by|Cancelled/.test(m.text ?? ''))).toBe(false);
  });
});

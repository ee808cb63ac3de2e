import { sql } from 'drizzle-orm';
import { TelegramError } from 'telegraf';
import { afterEach, describe, expect, it } from 'vitest';
import { errorSummary } from '../src/delivery/telegram.js';
import { createLogger, serializeError, summarizeError, type Logger } from '../src/logger.js';
import { sendRequest, startHarness, type Harness } from './helpers/bot.js';
import { ENGINES, openTestDatabase, type TestDatabase } from './helpers/db.js';
import { samplePhoto } from './helpers/telegram.js';

/** A logger as the app makes it, writing to memory: every line it wrote, and the entries parsed. */
function capturedLogger(level: 'debug' | 'info' = 'debug'): {
  logger: Logger;
  text: () => string;
  entries: () => Record<string, unknown>[];
} {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (line: string) => void lines.push(line) });
  const text = () => lines.join('');
  return {
    logger,
    text,
    entries: () =>
      text()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

// The person of the conversations, and everything they send: none of it may reach the log.
const PERSON = { firstName: 'Zinaida', lastName: 'Quillfeather', username: 'zq_private_handle', phone: '447700900123' };
const FULL_NAME = 'Zinaida Quillfeather';
const CITY = 'Xylotownshire';
const BIRTH_DATE = '17.03.1988';
const EMAIL = 'zinaida.quill@example.org';

describe('what an error leaves in the log', () => {
  let db: TestDatabase | undefined;
  afterEach(() => db?.close());

  it.each(ENGINES)(
    'a failed query on %s: class, SQLSTATE and stack frames, never the statement, its parameters or the message quoting them',
    async (engine) => {
      db = await openTestDatabase(engine);
      const failed = await db
        .current()
        .db.execute(sql`select ${FULL_NAME}::int as n`)
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(failed).toBeInstanceOf(Error);
      // The raw error carries the value three ways: the query's parameters, Drizzle's message, the driver's message.
      expect(String((failed as Error).message)).toContain(FULL_NAME);

      const log = capturedLogger();
      log.logger.error({ err: failed }, 'query failed');
      log.logger.warn({ err: errorSummary(failed) }, 'query failed, summarised first');
      log.logger.error(failed);
      expect(log.text()).not.toContain(FULL_NAME);
      const [raw, summarised, bare] = log.entries();
      for (const entry of [raw, summarised, bare]) {
        expect(entry?.err).toMatchObject({ code: '22P02', stack: expect.stringMatching(/^at /) });
        expect(entry?.err).not.toHaveProperty('message');
      }
      // logger.error(err) would make the message the log line's msg: the class is used instead.
      expect(bare?.msg).toBe((bare?.err as { type: string }).type);
    },
  );

  it('a refused Bot API call: the code and Telegram’s description, never the request payload', () => {
    const error = new TelegramError(
      { error_code: 400, description: "Bad Request: can't parse entities" },
      { method: 'sendMessage', payload: { chat_id: 42, text: `Full name: ${FULL_NAME}` } },
    );
    expect(serializeError(error)).toMatchObject({
      type: 'TelegramError',
      code: 400,
      description: "Bad Request: can't parse entities",
      stack: expect.any(String),
    });
    expect(JSON.stringify(serializeError(error))).not.toContain(FULL_NAME);
    expect(summarizeError(error)).toEqual({ type: 'TelegramError', code: 400, description: "Bad Request: can't parse entities" });
  });

  it('a JSON parser’s message quotes its input and is left out; a plain error keeps its message', () => {
    const parseError = (() => {
      try {
        JSON.parse(`{"name": ${FULL_NAME}}`);
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(serializeError(parseError)).toEqual({ type: 'SyntaxError', stack: expect.any(String) });
    expect(summarizeError(new RangeError('limit reached'))).toEqual({ type: 'RangeError', message: 'limit reached' });
    expect(summarizeError('a thrown string')).toEqual({ type: 'string' });
  });

  it('keys that hold personal data are redacted wherever they sit', () => {
    const log = capturedLogger();
    log.logger.info(
      { text: FULL_NAME, from: { first_name: PERSON.firstName, username: PERSON.username }, payload: { email: EMAIL } },
      'oops',
    );
    expect(log.text()).not.toMatch(new RegExp(`${FULL_NAME}|${PERSON.firstName}|${PERSON.username}|${EMAIL}`));
    expect(log.entries()[0]).toMatchObject({
      text: '[redacted]',
      from: { first_name: '[redacted]', username: '[redacted]' },
      payload: '[redacted]',
    });
  });
});

describe.each(ENGINES)('the log of whole conversations on %s', (engine) => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  it('has the failures (a database error, a Telegram error) and not one name, text, phone number, e-mail or file id', async () => {
    const log = capturedLogger('debug');
    h = await startHarness(engine, { logger: log.logger });
    const { emu, operator } = h;
    const client = emu.createUser({
      firstName: PERSON.firstName,
      lastName: PERSON.lastName,
      username: PERSON.username,
      languageCode: 'en',
      phoneNumber: `+${PERSON.phone}`,
    });
    await client.send('/start');
    await client.waitForMessage(/Hello/);

    // The first answer stored fails once, with the answer in the error's message and detail.
    const db = h.app.database.db;
    await db.execute(sql.raw('create sequence test_fault_once'));
    await db.execute(
      sql.raw(`create function test_fault() returns trigger language plpgsql as $$
        begin
          if nextval('test_fault_once') = 1 then
            raise exception 'refused answer %', new.value::text using detail = 'value: ' || new.value::text;
          end if;
          return new;
        end $$`),
    );
    await db.execute(sql.raw('create trigger test_fault before insert on answers for each row execute function test_fault()'));

    // Personal data: the name fails once (the client is told to wait), then goes through.
    await sendRequest(operator, PERSON.firstName, 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send(FULL_NAME);
    await client.waitForMessage(/processed in a moment/);
    await client.waitForMessage(/step 2 of 3/);
    await client.send(CITY);
    await client.waitForMessage(/step 3 of 3/);
    // The summary (name and city in it) is refused once by Telegram and sent again as plain text.
    emu.faults.failNext('sendMessage', 1, { code: 400, description: "Bad Request: can't parse entities: unsupported start tag" });
    await client.send(BIRTH_DATE);
    await client.waitForMessage(/please check your answers/);
    await client.press('✅ Confirm');
    await operator.waitForMessage(/Personal data from Zinaida/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Personal data”/);

    // Contact details: the shared phone number and an e-mail.
    await sendRequest(operator, PERSON.firstName, 'Contact details');
    await client.waitForMessage(/Contact details · step 1 of 3/);
    await client.pressReplyButton('📱 Share my number');
    await client.waitForMessage(/step 2 of 3[\s\S]*e-mail/);
    await client.send(EMAIL);
    await client.waitForMessage(/step 3 of 3/);
    await client.press('Evening');
    await client.waitForMessage(/please check your answers/);
    await client.press('✅ Confirm');
    await operator.waitForMessage(new RegExp(EMAIL.replaceAll('.', '\\.')));

    // A passport photo: file ids, and a caption with the client's name.
    await sendRequest(operator, PERSON.firstName, 'Passport photo');
    await client.waitForMessage(/Passport photo · step 1 of 1/);
    const photo = await client.sendPhoto({ bytes: samplePhoto() });
    await operator.waitForMessage((m) => m.photo !== undefined);
    await operator.waitForMessage(/📥 Passport photo from Zinaida/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Passport photo”/);
    await h.app.inbox.drain();

    const flows = await h.app.flows.flowsOf(client.id);
    const app = h.app;
    const answers = (await Promise.all(flows.map((f) => app.flows.answersOf(f.id)))).flat();
    const fileIds = [photo.photo, ...answers.flatMap((a) => [a.fileId, a.fileUniqueId])].filter(
      (id): id is string => typeof id === 'string' && id !== '',
    );
    expect(fileIds.length).toBeGreaterThanOrEqual(2);
    expect(answers.map((a) => a.value)).toEqual(
      expect.arrayContaining([
        { kind: 'text', text: FULL_NAME },
        { kind: 'email', email: EMAIL },
      ]),
    );

    const entries = log.entries();
    // The failures are there, described without their data.
    expect(entries).toContainEqual(
      expect.objectContaining({
        msg: 'update failed: retrying',
        err: expect.objectContaining({ code: 'P0001', stack: expect.any(String) }),
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        msg: 'message refused; sent as plain text',
        error: "Bad Request: can't parse entities: unsupported start tag",
      }),
    );
    expect(entries).toContainEqual(expect.objectContaining({ msg: 'bot started' }));

    const text = log.text();
    for (const secret of [
      PERSON.firstName,
      PERSON.lastName,
      PERSON.username,
      PERSON.phone,
      FULL_NAME,
      CITY,
      BIRTH_DATE,
      '1988-03-17',
      EMAIL,
      ...fileIds,
    ]) {
      expect(text, secret).not.toContain(secret);
    }
  });
});

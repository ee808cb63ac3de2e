import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedUser } from '../../src/playground/emulator/index.js';
import { pack } from '../../src/ui/callback-data.js';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';
import { readCsvFile, readZip } from '../export/readers.js';

/** /export → a request type → a period; resolves with the CSV document the bot sent. */
async function exportCsv(h: Harness, staff: EmulatedUser, title: string, period: string) {
  await staff.send('/export');
  await staff.waitForMessage(/Export answers to a CSV file/);
  await staff.press(title);
  await staff.waitForMessage(new RegExp(`“${title}”: which period\\?`));
  await staff.press(period);
  const message = await staff.waitForMessage((m) => m.document !== undefined);
  const bytes = h.emu.fileBytes(message.document ?? '');
  if (!bytes) throw new Error('the emulator does not hold the document');
  return { message, csv: readCsvFile(bytes) };
}

/** The client answers Personal data and confirms (the request waits for the operator's review). */
async function answerPersonalData(client: EmulatedUser, answers: readonly string[]): Promise<void> {
  for (const answer of answers) {
    await client.waitForMessage(/Personal data · step \d of 3/);
    await client.send(answer);
  }
  await client.waitForMessage(/please check your answers/);
  await client.press('✅ Confirm');
  await client.waitForMessage(/sent to the operator/);
}

describe.each(ENGINES)('export and archives through the bot on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('/export sends each operator a CSV of the requests they sent, and an admin everyone’s', async () => {
    h = await startHarness(engine, { operators: 2 });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('two operators');
    const anna = await h.client('Anna');
    const boris = await h.client('Boris');

    await sendRequest(olga, 'Anna', 'Personal data');
    await answerPersonalData(anna, ['Анна Петрова', '=1+2', '15.06.1990']);
    await olga.waitForMessage(/📥 Personal data from Anna/);
    await olga.press('✅ Accept');
    await olga.waitForMessage(/Accepted by Olga/);
    await sendRequest(oleg, 'Boris', 'Personal data');
    await answerPersonalData(boris, ['Boris Ivanov', 'Kazan', '14.07.1990']);

    const mine = await exportCsv(h, olga, 'Personal data', 'Last 30 days');
    expect(mine.message.fileName).toMatch(/^personal_data_\d{4}-\d{2}-\d{2}\.csv$/);
    expect(mine.message.caption).toBe('Personal data · Last 30 days · requests: 1');
    expect(mine.csv.header.slice(-3)).toEqual(['full_name', 'city', 'birth_date']);
    expect(mine.csv.rows).toEqual([
      expect.objectContaining({
        request_id: 'personal_data',
        request_title: 'Personal data',
        status: 'completed',
        client_id: String(anna.id),
        client_name: 'Anna',
        operator_id: String(olga.id),
        operator_name: 'Olga Operator',
        full_name: 'Анна Петрова',
        city: "'=1+2",
        birth_date: '15.06.1990',
      }),
    ]);

    // Oleg's export holds Boris only: never a request another operator sent.
    const his = await exportCsv(h, oleg, 'Personal data', 'All time');
    expect(his.csv.rows.map((r) => [r['client_name'], r['status'], r['city']])).toEqual([['Boris', 'in_review', 'Kazan']]);

    const all = await exportCsv(h, h.admin, 'Personal data', 'This year');
    expect(all.csv.rows.map((r) => r['client_name'])).toEqual(['Anna', 'Boris']);

    // A type nobody was sent: a message, no file.
    await olga.send('/export');
    await olga.waitForMessage(/Export answers to a CSV file/);
    await olga.press('Passport photo');
    await olga.waitForMessage(/“Passport photo”: which period\?/);
    await olga.press('Last 7 days');
    await olga.waitForMessage(/There are no “Passport photo” requests in this period \(Last 7 days\)/);

    // Staff see /export in Telegram's command menu, in their language; clients do not, and have no /export.
    const telegram = h.app.bot.telegram;
    expect(await telegram.getMyCommands({ scope: { type: 'chat', chat_id: olga.id }, language_code: 'ru' })).toContainEqual({
      command: 'export',
      description: 'Выгрузка ответов (CSV)',
    });
    expect(
      (await telegram.getMyCommands({ scope: { type: 'chat', chat_id: h.admin.id }, language_code: 'en' })).map((c) => c.command),
    ).toContain('export');
    expect((await telegram.getMyCommands()).map((c) => c.command)).not.toContain('export');
    await anna.send('/export');
    await anna.waitForMessage(/Your operator will send you a request here/);
    expect(anna.messages().some((m) => m.document !== undefined)).toBe(false);
  });

  it('/archive: a ZIP of the client’s answers and the very files they sent, by step and round; only to their operator', async () => {
    h = await startHarness(engine, { operators: 2 });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('two operators');
    const anna = await h.client('Anna');
    const first = samplePhoto();
    const second = samplePhoto({ rgb: [10, 200, 10] });
    const bill = Buffer.from('%PDF-1.4\n% a utility bill\n%%EOF\n');

    await sendRequest(olga, 'Anna', 'Passport photo');
    await anna.waitForMessage(/Passport photo · step 1 of 1/);
    await anna.sendPhoto({ bytes: first });
    await olga.waitForMessage(/📥 Passport photo from Anna/);
    await olga.press(/Ask again/);
    await olga.waitForMessage(/Send back: All steps/);
    await olga.press('The photo is blurry');
    await olga.waitForMessage(/Asked again: The photo is blurry/);
    await anna.waitForMessage(/send this again/);
    await anna.sendPhoto({ bytes: second });
    await olga.waitForMessage(/Passport photo from Anna \(round 2\)/);
    await olga.press('✅ Accept');
    await olga.waitForMessage(/Accepted by Olga/);
    await sendRequest(olga, 'Anna', 'Proof of address');
    await anna.waitForMessage(/Proof of address · step 1 of 1/);
    await anna.sendDocument({ bytes: bill, fileName: 'bill.pdf', mimeType: 'application/pdf' });
    await olga.waitForMessage(/📥 Proof of address from Anna/);

    await olga.send(`/archive ${anna.id}`);
    await olga.waitForMessage(/📦 Archive of Anna \(requests: 2\)/);
    // The files' downloads held: the archive is in the making until they are let go.
    const downloads = h.emu.faults.hold('getFile');
    const all = await olga.press(/All requests \(2\)/);
    expect((await olga.waitForCallbackAnswer(all)).text).toBe('Preparing the file…');
    await downloads.arrived();
    // One archive in the making per staff member: a second is refused meanwhile, and nothing is lost.
    const meanwhile = await olga.press(/📦 Proof of address/);
    expect(await olga.waitForCallbackAnswer(meanwhile)).toMatchObject({
      text: 'An archive is already being prepared for you; it will arrive in this chat.',
      showAlert: true,
    });
    downloads.release();
    const sent = await olga.waitForMessage((m) => m.document !== undefined);
    expect(sent.fileName).toMatch(new RegExp(`^client_${anna.id}_\\d{4}-\\d{2}-\\d{2}\\.zip$`));
    expect(sent.caption).toBe('📦 Anna · requests: 2 · files: 3');
    const zip = readZip(h.emu.fileBytes(sent.document ?? '') ?? Buffer.alloc(0));

    const json = JSON.parse(zip.get('answers.json')?.toString('utf8') ?? '{}') as {
      files_included: boolean;
      requests: {
        flow_id: number;
        request_id: string;
        answers: { step_id: string; round: number; status: string; value: { fileId: string }; file?: { path: string | null } }[];
      }[];
    };
    expect(json.files_included).toBe(true);
    const [passport, address] = json.requests;
    expect(passport?.answers.map((a) => [a.step_id, a.round, a.status, a.file?.path])).toEqual([
      ['passport', 1, 'rejected', `files/${passport?.flow_id}_passport_photo/passport_round1.jpg`],
      ['passport', 2, 'accepted', `files/${passport?.flow_id}_passport_photo/passport_round2.jpg`],
    ]);
    expect(address?.answers.map((a) => [a.step_id, a.round, a.status, a.file?.path])).toEqual([
      ['document', 1, 'pending', `files/${address?.flow_id}_proof_of_address/document_round1.pdf`],
    ]);
    // Byte for byte what the emulator holds, which is what Anna sent.
    for (const answer of [...(passport?.answers ?? []), ...(address?.answers ?? [])]) {
      const inZip = zip.get(answer.file?.path ?? '');
      expect(inZip, answer.file?.path ?? '').toBeDefined();
      expect(inZip?.equals(h.emu.fileBytes(answer.value.fileId) ?? Buffer.alloc(0))).toBe(true);
    }
    expect(zip.get(`files/${passport?.flow_id}_passport_photo/passport_round1.jpg`)?.equals(first)).toBe(true);
    expect(zip.get(`files/${passport?.flow_id}_passport_photo/passport_round2.jpg`)?.equals(second)).toBe(true);
    expect(zip.get(`files/${address?.flow_id}_proof_of_address/document_round1.pdf`)?.equals(bill)).toBe(true);
    const csv = readCsvFile(zip.get('answers.csv') ?? Buffer.alloc(0));
    expect(csv.rows.map((r) => [r['request_id'], r['step_id'], r['round'], r['status'], (r['answer'] ?? '').split(' ')[0]])).toEqual([
      ['passport_photo', 'passport', '1', 'rejected', 'photo'],
      ['passport_photo', 'passport', '2', 'accepted', 'photo'],
      ['proof_of_address', 'document', '1', 'pending', 'document'],
    ]);

    // One request: its own archive, asked for as soon as the first one arrived (the first is made by then).
    const single = await olga.press(/📦 Proof of address/);
    expect((await olga.waitForCallbackAnswer(single)).text).toBe('Preparing the file…');
    const one = await olga.waitForMessage((m) => m.document !== undefined && m.fileName?.startsWith('request_') === true);
    expect(one.fileName).toMatch(new RegExp(`^request_${address?.flow_id}_`));
    expect([...readZip(h.emu.fileBytes(one.document ?? '') ?? Buffer.alloc(0)).keys()].sort()).toEqual(
      ['answers.csv', 'answers.json', `files/${address?.flow_id}_proof_of_address/document_round1.pdf`].sort(),
    );

    // Another operator gets nothing of Anna's, not even through a forged button.
    await oleg.send(`/archive ${anna.id}`);
    await oleg.waitForMessage(/This client has no requests of yours to archive/);
    const forged = await oleg.pressData(pack({ kind: 'archiveFlow', flow: passport?.flow_id ?? 0 }), oleg.lastMessage()?.messageId ?? 0);
    // Refused before the export looks (OPERATOR_VISIBILITY=own: Anna is Olga's client).
    expect(await oleg.waitForCallbackAnswer(forged)).toMatchObject({ text: 'This client belongs to another operator.', showAlert: true });
    await oleg.send('/archive nonsense');
    await oleg.waitForMessage(/Usage: \/archive <client ID>/);
    expect(oleg.messages().some((m) => m.document !== undefined)).toBe(false);
  });
});

import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resultSchema } from '../../src/results/json.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { ENGINES } from '../helpers/db.js';
import { freePort } from '../helpers/ports.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { samplePhoto } from '../helpers/telegram.js';

const SECRET = 'result-webhook-secret-for-tests';

describe.each(ENGINES)('result webhook through the bot on %s', (engine) => {
  let h: Harness;
  let receiver: Receiver;
  afterEach(async () => {
    await h.close();
    await receiver.close();
  });

  it('an accepted passport photo reaches the receiver with a download link to the very file; admins see the deliveries', async () => {
    let status = 200;
    receiver = await startReceiver(() => status);
    const port = await freePort();
    h = await startHarness(engine, { app: { port, results: { url: receiver.url, secret: SECRET, linksUrl: `http://127.0.0.1:${port}` } } });
    const anna = await h.client('Anna');
    const photo = samplePhoto();

    await sendRequest(h.operator, 'Anna', 'Passport photo');
    await anna.waitForMessage(/Passport photo · step 1 of 1/);
    await anna.sendPhoto({ bytes: photo });
    await h.operator.waitForMessage(/📥 Passport photo from Anna/);
    await h.operator.press('✅ Accept');
    await h.operator.waitForMessage(/Accepted by Olga/);

    const result = resultSchema.parse(JSON.parse((await receiver.request(0)).body));
    // The receiver has it; the deliverer records it once the answer is back: its pass ends after that.
    await h.app.results?.flush();
    expect(result).toMatchObject({
      request: { id: 'passport_photo' },
      client: { id: anna.id, name: 'Anna' },
      accepted_by: { kind: 'operator', id: h.operator.id },
    });
    const file = result.answers[0]?.file;
    expect(file?.media).toBe('photo');
    const download = await fetch(file?.download_url ?? '');
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);
    expect(h.emu.fileBytes(file?.file_id ?? '')?.equals(photo)).toBe(true);
    // A link that was tampered with is refused.
    const forged = new URL(file?.download_url ?? '');
    forged.searchParams.set('expires', String(Number(forged.searchParams.get('expires')) + 1));
    expect((await fetch(forged)).status).toBe(403);

    await h.admin.send('/deliveries');
    await h.admin.waitForMessage(/Waiting: 0 · failed: 0 · delivered: 1/);

    // The receiver refuses the next one (400): failed at once, the admins are told once, and Retry sends it again.
    status = 400;
    await sendRequest(h.operator, 'Anna', 'Passport photo');
    await anna.waitForMessage(/Passport photo · step 1 of 1/);
    await anna.sendPhoto({ bytes: samplePhoto({ rgb: [1, 2, 3] }) });
    await h.operator.waitForMessage(/📥 Passport photo from Anna/);
    await h.operator.press('✅ Accept');
    await receiver.request(1);
    await h.admin.waitForMessage(/1 accepted request could not be delivered to the result webhook\. See \/deliveries\./);
    await h.admin.send('/deliveries');
    await h.admin.waitForMessage((m) => /failed: 1/.test(m.text ?? '') && /Last error: HTTP 400/.test(m.text ?? ''));
    status = 200;
    await h.admin.press(/Retry the failed ones \(1\)/);
    const resent = await receiver.request(2);
    await h.app.results?.flush();
    expect(JSON.parse(resent.body)).toEqual(JSON.parse(receiver.received[1]?.body ?? ''));
    await h.admin.send('/deliveries');
    await h.admin.waitForMessage(/delivered: 2/);
    expect(h.admin.messages().filter((m) => /could not be delivered to the result webhook/.test(m.text ?? ''))).toHaveLength(1);
    const { port: httpPort } = h.app.http.address() as AddressInfo;
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^orb_result_deliveries\{status="delivered"\} 2$/m);
    expect(metrics).toMatch(/^orb_result_deliveries\{status="failed"\} 0$/m);
  });
});

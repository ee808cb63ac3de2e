import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { ENGINES } from '../helpers/db.js';

type Labels = Record<string, string>;
interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}
interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * A strict parser of Prometheus' text format (0.0.4): every line a comment, HELP, TYPE or sample; every
 * sample of a family whose TYPE came first (histograms as _bucket, _sum and _count); label values with
 * their escapes; no series twice. Throws on anything else.
 */
function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const [index, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${index + 1}: ${line}`;
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name, ${where}`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest) || types.has(name)) throw new Error(`bad or repeated TYPE, ${where}`);
        if (samples.some((s) => familyOf(s.name, types) === name)) throw new Error(`TYPE after its samples, ${where}`);
        types.set(name, rest);
      } else {
        if (helps.has(name)) throw new Error(`repeated HELP, ${where}`);
        helps.add(name);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!sample) throw new Error(`not a sample, ${where}`);
    const [, name = '', rawLabels, rawValue = ''] = sample;
    const family = familyOf(name, types);
    if (family === undefined) throw new Error(`sample without a TYPE, ${where}`);
    const labels = rawLabels === undefined ? {} : parseLabels(rawLabels, where);
    const value = parseValue(rawValue, where);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`series repeated, ${where}`);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && (types.get(base) === 'histogram' || types.get(base) === 'summary') ? base : undefined;
}

function parseLabels(raw: string, where: string): Labels {
  const labels: Labels = {};
  let rest = raw;
  while (rest !== '') {
    const match = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,?)/.exec(rest);
    if (!match) throw new Error(`bad labels, ${where}`);
    const [all, name = '', value = '', comma] = match;
    if (name in labels) throw new Error(`label repeated, ${where}`);
    labels[name] = value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(all.length);
    if (comma === '' && rest !== '') throw new Error(`bad labels, ${where}`);
  }
  return labels;
}

function parseValue(raw: string, where: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`bad value, ${where}`);
  return Number(raw);
}

/** The one sample of `name` with exactly these labels (undefined when there is none). */
function valueOf(exposition: Exposition, name: string, labels: Labels = {}): number | undefined {
  const found = exposition.samples.filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
  );
  if (found.length > 1) throw new Error(`${name} repeated`);
  return found[0]?.value;
}

async function scrape(h: Harness): Promise<Exposition> {
  const response = await fetch(`http://127.0.0.1:${(h.app.http.address() as AddressInfo).port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

describe('the Prometheus text parser of this test', () => {
  it('refuses what is not the format', () => {
    expect(() => parseExposition('# TYPE a gauge\na 1\n')).not.toThrow();
    expect(() => parseExposition('a 1\n')).toThrow(/without a TYPE/);
    expect(() => parseExposition('# TYPE a gauge\na{x="1} 1\n')).toThrow(/bad labels/);
    expect(() => parseExposition('# TYPE a gauge\na one\n')).toThrow(/bad value/);
    expect(() => parseExposition('# TYPE a gauge\na 1\na 2\n')).toThrow(/repeated/);
    expect(parseExposition('# TYPE a gauge\na{x="q\\"\\\\",y="2"} 1.5e3\n').samples).toEqual([
      { name: 'a', labels: { x: 'q"\\', y: '2' }, value: 1500 },
    ]);
  });
});

describe.each(ENGINES)('/metrics on %s', (engine) => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  it('counts a conversation: updates by type and outcome, handler times, Bot API calls and errors, requests, outbox and inbox', async () => {
    h = await startHarness(engine);
    const { operator, emu } = h;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Petrova');
    await client.waitForMessage(/step 2 of 3/);
    await client.send('Moscow');
    await client.waitForMessage(/step 3 of 3/);
    // The summary is refused once (sent again as plain text): one Bot API error.
    emu.faults.failNext('sendMessage', 1, { code: 400, description: "Bad Request: can't parse entities" });
    await client.send('15.06.1990');
    await client.waitForMessage(/please check your answers/);
    await client.press('✅ Confirm');
    await operator.waitForMessage(/📥 Personal data from Anna/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Personal data”/);
    await operator.waitForMessage(/Accepted by Olga/);
    // Everything taken is applied and everything written is sent.
    await h.app.inbox.drain();
    await h.app.sender.flush();

    const m = await scrape(h);
    const db = h.app.database.db;
    expect(m.types.get('orb_flows')).toBe('gauge');
    expect(valueOf(m, 'orb_flows', { status: 'completed' })).toBe(1);
    expect(valueOf(m, 'orb_flows', { status: 'queued' })).toBe(0);

    const outbox = rowsOf<{ status: string; n: number }>(
      await db.execute(sql`select status, count(*)::int as n from outbox group by status`),
    );
    const sent = outbox.find((r) => r.status === 'sent')?.n ?? 0;
    expect(sent).toBeGreaterThan(5);
    expect(valueOf(m, 'orb_outbox', { status: 'sent' })).toBe(sent);
    expect(valueOf(m, 'orb_outbox', { status: 'pending' })).toBe(0);
    expect(valueOf(m, 'orb_outbox_oldest_pending_seconds')).toBe(0);

    expect(valueOf(m, 'orb_inbox_pending')).toBe(0);
    expect(valueOf(m, 'orb_inbox_dead')).toBe(0);
    expect(valueOf(m, 'orb_inbox_oldest_pending_seconds')).toBe(0);

    // Updates: three /start, /menu and three answers; Clients, Anna, Personal data, Confirm and Accept.
    const [inbox] = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from inbox`));
    expect(m.types.get('orb_updates_total')).toBe('counter');
    expect(valueOf(m, 'orb_updates_total', { outcome: 'accepted' })).toBe(inbox?.n);
    expect(valueOf(m, 'orb_updates_total', { outcome: 'applied' })).toBe(12);
    expect(valueOf(m, 'orb_updates_total', { outcome: 'dead' })).toBe(0);
    expect(valueOf(m, 'orb_updates_handled_total', { type: 'message', outcome: 'ok' })).toBe(7);
    expect(valueOf(m, 'orb_updates_handled_total', { type: 'callback_query', outcome: 'ok' })).toBe(5);
    expect(m.samples.filter((s) => s.name === 'orb_updates_handled_total' && s.labels.outcome !== 'ok')).toEqual([]);

    expect(m.types.get('orb_update_handler_seconds')).toBe('histogram');
    const buckets = m.samples.filter((s) => s.name === 'orb_update_handler_seconds_bucket' && s.labels.type === 'message');
    expect(buckets.at(-1)?.labels.le).toBe('+Inf');
    expect(buckets.at(-1)?.value).toBe(7);
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
    expect(valueOf(m, 'orb_update_handler_seconds_count', { type: 'message' })).toBe(7);
    expect(valueOf(m, 'orb_update_handler_seconds_sum', { type: 'message' })).toBeGreaterThan(0);

    // Bot API calls, as the emulator answered them (a long poll may be in flight: not compared).
    const calls = new Map<string, number>();
    const errors = new Map<string, number>();
    for (const call of emu.calls().filter((c) => c.method !== 'getUpdates')) {
      calls.set(call.method, (calls.get(call.method) ?? 0) + 1);
      if (call.errorCode !== null)
        errors.set(`${call.method} ${call.errorCode}`, (errors.get(`${call.method} ${call.errorCode}`) ?? 0) + 1);
    }
    const counted = new Map(
      m.samples
        .filter((s) => s.name === 'orb_telegram_calls_total' && s.labels.method !== 'getUpdates')
        .map((s) => [s.labels.method ?? '', s.value]),
    );
    expect(counted).toEqual(calls);
    expect(
      new Map(m.samples.filter((s) => s.name === 'orb_telegram_errors_total').map((s) => [`${s.labels.method} ${s.labels.code}`, s.value])),
    ).toEqual(errors);
    expect(valueOf(m, 'orb_telegram_errors_total', { method: 'sendMessage', code: '400' })).toBe(1);
    expect(calls.get('sendMessage')).toBeGreaterThan(5);

    // Each app has a registry of its own: a restarted app (a new one in this process) counts from zero.
    await h.restart();
    const again = await scrape(h);
    expect(valueOf(again, 'orb_updates_total', { outcome: 'accepted' })).toBe(0);
    expect(valueOf(again, 'orb_flows', { status: 'completed' })).toBe(1);
  });
});

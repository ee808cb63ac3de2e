import { describe, expect, it } from 'vitest';
import { EnvError, loadEnv } from '../../src/config/env.js';

function problemsOf(source: Record<string, string>): { name: string; message: string }[] {
  try {
    loadEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return [...error.problems];
    throw error;
  }
  throw new Error('expected an EnvError');
}

describe('loadEnv', () => {
  it('runs the playground on the embedded database with nothing set', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      botToken: undefined,
      databaseUrl: undefined,
      dataDir: './data',
      cataloguePath: 'config/catalogue.yaml',
      defaultLocale: 'ru',
      logLevel: 'info',
      port: 3000,
      operatorIds: [],
    });
  });

  it('parses a production configuration', () => {
    const env = loadEnv({
      BOT_TOKEN: '123:abc',
      OPERATOR_IDS: '111, 222,,333',
      ADMIN_IDS: '999',
      DATABASE_URL: 'postgres://bot:secret@db:5432/bot',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
      DEFAULT_LOCALE: 'en',
      WEBHOOK_URL: 'https://bot.example.com/telegram',
      WEBHOOK_SECRET: 's3cr3t-token_1',
      PORT: '8443',
    });
    expect(env.operatorIds).toEqual([111, 222, 333]);
    expect(env.adminIds).toEqual([999]);
    expect(env.telegramApiRoot).toBe('http://127.0.0.1:8081');
    expect(env.port).toBe(8443);
    expect(env.defaultLocale).toBe('en');
  });

  it('treats empty values as unset', () => {
    expect(loadEnv({ BOT_TOKEN: '', DATABASE_URL: '', OPERATOR_IDS: '' }).botToken).toBeUndefined();
  });

  it.each([
    ['OPERATOR_IDS', '12,abc', /not a Telegram user id: "abc"/],
    ['OPERATOR_IDS', '1.5', /not a Telegram user id/],
    ['OPERATOR_IDS', '-5', /not a Telegram user id/],
    ['ADMIN_IDS', '99999999999999999999', /not a Telegram user id/],
    ['DEFAULT_LOCALE', 'de', /must be one of ru, en/],
    ['LOG_LEVEL', 'loud', /must be one of fatal, error/],
    ['TELEGRAM_API_ROOT', 'not a url', /not a valid URL/],
    ['WEBHOOK_URL', 'nope', /not a valid URL/],
    ['DATABASE_URL', 'mysql://root@db/x', /expected a postgres:\/\/ URL/],
    ['DATABASE_URL', '::::', /not a URL/],
    ['PORT', '70000', /not a port number/],
    ['PORT', 'eighty', /not a port number/],
    ['WEBHOOK_SECRET', 'has spaces', /A-Z, a-z, 0-9/],
    ['RETENTION_DAYS', '0', /a whole number of days/],
    ['RETENTION_DAYS', '30.5', /a whole number of days/],
    ['RETENTION_DAYS', '40000', /a whole number of days/],
    ['API_TOKEN', 'short', /16-512 printable characters/],
    ['OPERATOR_VISIBILITY', 'mine', /must be one of own, all/],
    ['REVIEW_OVERDUE_HOURS', '0', /a whole number of hours/],
    ['REVIEW_OVERDUE_HOURS', '1.5', /a whole number of hours/],
  ])('rejects %s=%j', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.name).toBe(name);
    expect(problems[0]?.message).toMatch(message);
  });

  it('names every bad variable at once, in one readable message', () => {
    let error: unknown;
    try {
      loadEnv({ OPERATOR_IDS: 'x', DEFAULT_LOCALE: 'fr', PORT: '0x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvError);
    const message = (error as EnvError).message;
    for (const name of ['OPERATOR_IDS', 'DEFAULT_LOCALE', 'PORT']) expect(message).toContain(`${name}:`);
    expect(message).not.toMatch(/\n\s+at /); // no stack trace in the message
  });

  it('requires operators when a bot token is set', () => {
    expect(problemsOf({ BOT_TOKEN: '1:a' })).toEqual([{ name: 'OPERATOR_IDS', message: expect.stringMatching(/required when BOT_TOKEN/) }]);
    expect(loadEnv({ BOT_TOKEN: '1:a', ADMIN_IDS: '5' }).adminIds).toEqual([5]);
  });

  it('requires a secret and a token for webhooks', () => {
    expect(
      problemsOf({ WEBHOOK_URL: 'https://x.example/hook' })
        .map((p) => p.name)
        .sort(),
    ).toEqual(['WEBHOOK_SECRET', 'WEBHOOK_URL']);
    expect(problemsOf({ BOT_TOKEN: '1:a', OPERATOR_IDS: '1', WEBHOOK_URL: 'ftp://x.example/hook', WEBHOOK_SECRET: 'abc' })).toEqual([
      { name: 'WEBHOOK_URL', message: 'must be an http(s) URL' },
    ]);
  });

  it('reads the result webhook, the request API and retention, each with what it needs', () => {
    const env = loadEnv({
      RESULT_WEBHOOK_URL: 'https://crm.example.com/hooks/requests',
      RESULT_WEBHOOK_SECRET: 'whsec_0123456789abcdef',
      RESULT_LINKS_URL: 'https://bot.example.com/',
      API_TOKEN: 'tok_0123456789abcdef',
      RETENTION_DAYS: '90',
    });
    expect(env).toMatchObject({
      resultWebhookUrl: 'https://crm.example.com/hooks/requests',
      resultWebhookSecret: 'whsec_0123456789abcdef',
      resultLinksUrl: 'https://bot.example.com',
      apiToken: 'tok_0123456789abcdef',
      retentionDays: 90,
    });
    expect(loadEnv({})).toMatchObject({ resultWebhookUrl: undefined, apiToken: undefined, retentionDays: undefined });
    expect(problemsOf({ RESULT_WEBHOOK_URL: 'https://crm.example.com/hook' })).toEqual([
      { name: 'RESULT_WEBHOOK_SECRET', message: expect.stringMatching(/required when RESULT_WEBHOOK_URL/) },
    ]);
    expect(problemsOf({ RESULT_WEBHOOK_SECRET: 'whsec_0123456789abcdef' })).toEqual([
      { name: 'RESULT_WEBHOOK_URL', message: expect.stringMatching(/required when RESULT_WEBHOOK_SECRET/) },
    ]);
    expect(problemsOf({ RESULT_LINKS_URL: 'https://bot.example.com' })).toEqual([
      { name: 'RESULT_LINKS_URL', message: expect.stringMatching(/only used with RESULT_WEBHOOK_URL/) },
    ]);
    expect(problemsOf({ RESULT_WEBHOOK_URL: 'ftp://crm.example.com', RESULT_WEBHOOK_SECRET: 'whsec_0123456789abcdef' })).toEqual([
      { name: 'RESULT_WEBHOOK_URL', message: 'must be an http(s) URL' },
    ]);
  });

  it('reads who sees whose clients and when a wait is overdue: own and 24 h unless set', () => {
    expect(loadEnv({})).toMatchObject({ operatorVisibility: 'own', reviewOverdueHours: 24 });
    expect(loadEnv({ OPERATOR_VISIBILITY: 'all', REVIEW_OVERDUE_HOURS: '8' })).toMatchObject({
      operatorVisibility: 'all',
      reviewOverdueHours: 8,
    });
  });

  it('never echoes secrets in its messages', () => {
    for (const [name, value] of [
      ['API_TOKEN', 'short secret'],
      ['RESULT_WEBHOOK_SECRET', 'short secret'],
      ['RESULT_WEBHOOK_URL', 'https//user:secret@x'],
    ] as const) {
      expect(
        problemsOf({ [name]: value, ...(name === 'RESULT_WEBHOOK_URL' ? { RESULT_WEBHOOK_SECRET: 'whsec_0123456789abcdef' } : {}) })[0]
          ?.message ?? '',
      ).not.toContain(value);
    }
    const problems = problemsOf({ WEBHOOK_SECRET: 'top secret value' });
    expect(problems[0]?.message).not.toContain('top secret value');
  });
});

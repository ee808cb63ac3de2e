import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRequestMachine, toMermaid } from '../../machines/index.js';
import { contactInfo, passportPhoto, personalData } from '../fixtures/definitions.js';

describe('toMermaid', () => {
  it('renders personal_data with every state and labelled transition', () => {
    const chart = toMermaid(personalData);
    const lines = chart
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines).toEqual(
      expect.arrayContaining([
        '[*] --> collecting',
        'state collecting {',
        'state "full_name" as collecting__full_name',
        'state "birth_date" as collecting__birth_date',
        '[*] --> collecting__full_name',
        'state routing <<choice>>',
        'collecting__full_name --> routing : ANSWER [isValidAnswer(full_name)]',
        'collecting__city --> needs_operator : ANSWER [isLastAttempt(city)]',
        'collecting__city --> collecting__city : ANSWER / recordInvalid',
        'routing --> collecting__birth_date : [isCurrent(birth_date)]',
        'routing --> confirming',
        'confirming --> in_review : CONFIRM',
        'confirming --> routing : EDIT_STEP [isKnownStep]',
        'in_review --> completed : ACCEPT',
        'in_review --> routing : ASK_AGAIN',
        'needs_operator --> routing : RETRY_STEP',
        'collecting --> cancelled : CANCEL',
        'in_review --> expired : EXPIRE',
        'completed --> [*]',
      ]),
    );
    expect(chart).not.toContain('SKIP'); // no optional steps
  });

  it('follows the definition: no confirming without confirm, SKIP only on optional steps', () => {
    const passport = toMermaid(passportPhoto);
    expect(passport).not.toContain('confirming');
    expect(passport).toContain('routing --> in_review');
    const contacts = toMermaid(contactInfo);
    expect(contacts).not.toContain('in_review');
    expect(contacts).toContain('routing --> completed');
    expect(contacts.split('\n').filter((l) => l.includes(': SKIP'))).toEqual(['  collecting__email --> routing : SKIP']);
  });

  it('takes a machine or a definition alike', () => {
    expect(toMermaid(createRequestMachine(personalData))).toBe(toMermaid(personalData));
  });
});

describe('machines/ stays pure', () => {
  const dir = new URL('../../machines/', import.meta.url);
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));

  it.each(files)('%s imports only xstate, zod and its own files, and reads no clock', (file) => {
    const source = readFileSync(new URL(file, dir), 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]);
    for (const s of specifiers)
      expect(s === 'xstate' || s === 'zod' || /^(\.\/([\w.-]+\/)*|\.\.\/)[\w.-]+\.js$/.test(s ?? ''), `${file}: ${s}`).toBe(true);
    expect(source).not.toMatch(/Date\.now|new Date\(|Math\.random|process\.|console\./);
  });
});

import { describe, expect, it } from 'vitest';
import { isClientButton, pack, parse, type CallbackData } from '../../src/ui/callback-data.js';

describe('callback data', () => {
  it('packs every kind of button and parses it back to the same value, within 64 bytes', () => {
    const big = Number.MAX_SAFE_INTEGER;
    const samples: CallbackData[] = [
      { kind: 'skip', flow: big, version: big },
      { kind: 'edit', flow: 1, version: 2, step: 3 },
      { kind: 'choose', flow: 1, version: 2, option: 0 },
      { kind: 'send', client: big, requestRef: 2 ** 31 - 1 },
      { kind: 'askReason', flow: big, version: big, reason: 9 },
      { kind: 'menu' },
      { kind: 'retryFailed' },
      { kind: 'retryDeliveries' },
      { kind: 'forget', client: big },
      { kind: 'forgetKeep' },
      { kind: 'language', locale: 1 },
    ];
    for (const data of samples) {
      const packed = pack(data);
      expect(Buffer.byteLength(packed)).toBeLessThanOrEqual(64);
      expect(parse(packed)).toEqual(data);
    }
  });

  it('refuses to pack what would not parse back', () => {
    expect(() => pack({ kind: 'skip', flow: -1, version: 0 })).toThrow(/non-negative integers/);
    expect(() => pack({ kind: 'skip', flow: 1.5, version: 0 })).toThrow(/non-negative integers/);
  });

  it('parses nothing that is not exactly one of its own buttons (forged, outdated or foreign data)', () => {
    for (const raw of [
      undefined,
      '',
      'sk',
      'sk:1',
      'sk:1:2:3',
      'sk:01:2',
      'sk:1:-2',
      'sk:1:2.0',
      'zz:1:2',
      'sk:1:99999999999999999',
      `mn:${'1'.repeat(70)}`,
      'mn:',
      ' mn',
    ]) {
      expect(parse(raw), JSON.stringify(raw)).toBeNull();
    }
  });

  it('tells client buttons from staff buttons', () => {
    expect(isClientButton({ kind: 'confirm', flow: 1, version: 1 })).toBe(true);
    expect(isClientButton({ kind: 'choose', flow: 1, version: 1, option: 0 })).toBe(true);
    expect(isClientButton({ kind: 'language', locale: 0 })).toBe(true);
    expect(isClientButton({ kind: 'accept', flow: 1, version: 1 })).toBe(false);
    expect(isClientButton({ kind: 'send', client: 1, requestRef: 1 })).toBe(false);
    expect(isClientButton({ kind: 'retryFailed' })).toBe(false);
    expect(isClientButton({ kind: 'forget', client: 1 })).toBe(false);
  });
});

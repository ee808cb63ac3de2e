import { describe, expect, it } from 'vitest';
import { pack, parse } from '../../src/ui/callback-data.js';
import { requestByRef, requestRef } from '../../src/config/catalogue.js';
import { PERIODS, periodStart } from '../../src/export/choices.js';
import { catalogue } from '../helpers/flows.js';

describe('export choices', () => {
  it('an export button carries the request type by its stable reference and fits the 64 bytes', async () => {
    const loaded = await catalogue();
    for (const request of loaded.requests) {
      const ref = requestRef(request.id);
      expect(requestByRef(loaded, ref)?.id).toBe(request.id);
      const data = pack({ kind: 'exportRun', request: ref, period: PERIODS.length - 1 });
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(parse(data)).toEqual({ kind: 'exportRun', request: ref, period: PERIODS.length - 1 });
    }
  });

  it('periods: 7 and 30 days back, this year from 1 January (UTC), all time', () => {
    const now = new Date('2026-03-10T12:00:00Z');
    expect(periodStart('7d', now)?.toISOString()).toBe('2026-03-03T12:00:00.000Z');
    expect(periodStart('30d', now)?.toISOString()).toBe('2026-02-08T12:00:00.000Z');
    expect(periodStart('year', now)?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(periodStart('all', now)).toBeNull();
  });
});

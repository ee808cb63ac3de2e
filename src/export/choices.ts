/**
 * What an export is asked for, as buttons carry it: callback data holds integers only, so a request type
 * travels as its stable reference (`requestRef` in src/config/catalogue.ts, never its position in the
 * catalogue), and a period as its index.
 */

export const PERIODS = ['7d', '30d', 'year', 'all'] as const;
export type Period = (typeof PERIODS)[number];

const DAY_MS = 86_400_000;

/** Where a period starts (null: all time). "This year" is from 1 January, 00:00 UTC. */
export function periodStart(period: Period, now: Date): Date | null {
  switch (period) {
    case '7d':
      return new Date(now.getTime() - 7 * DAY_MS);
    case '30d':
      return new Date(now.getTime() - 30 * DAY_MS);
    case 'year':
      return new Date(Date.UTC(now.getUTCFullYear(), 0, 1));
    case 'all':
      return null;
  }
}

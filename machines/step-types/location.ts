/**
 * Step type `location`: a point the client shares with Telegram's location button (a venue counts as
 * its point). Typed coordinates are refused: the share button gives exact ones.
 */
import { defineStepType, fail } from './base.js';

const isLatitude = (n: number) => Number.isFinite(n) && n >= -90 && n <= 90;
const isLongitude = (n: number) => Number.isFinite(n) && n >= -180 && n <= 180;

export const locationStep = defineStepType({
  valueKind: 'location',
  catalogue: {},
  validate: (_step, answer) =>
    answer.kind === 'location' && isLatitude(answer.latitude) && isLongitude(answer.longitude)
      ? { ok: true, value: { kind: 'location', latitude: answer.latitude, longitude: answer.longitude } }
      : fail('expected_location'),
  // Five decimals are about a metre: "48.85837, 2.29448".
  display: (value) => `${value.latitude.toFixed(5)}, ${value.longitude.toFixed(5)}`,
  keyboard: () => ({ kind: 'request_location' }),
});

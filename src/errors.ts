/** A start-up problem the person running the app can fix; shown as its message alone. */
export class StartupError extends Error {
  override name = 'StartupError';
}

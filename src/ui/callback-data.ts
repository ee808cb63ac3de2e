/**
 * Typed callback data for every inline button. Handlers never build or split these strings by hand:
 * `pack` and `parse` are the only way in and out. The wire form is `code:arg:arg…` with integer
 * arguments only (ids, versions, indexes), which keeps every button far below Telegram's 64 bytes.
 * Anything that does not parse exactly (a forged or outdated button) is `null`.
 */

/** Button kinds and the names of their integer arguments. */
const SPEC = {
  // client, on their own request
  skip: { code: 'sk', args: ['flow', 'version'] },
  confirm: { code: 'cf', args: ['flow', 'version'] },
  edit: { code: 'ed', args: ['flow', 'version', 'step'] },
  choose: { code: 'ch', args: ['flow', 'version', 'option'] },
  // operator, on a request card
  accept: { code: 'ac', args: ['flow', 'version'] },
  askAgain: { code: 'aa', args: ['flow', 'version'] },
  askToggle: { code: 'at', args: ['flow', 'version', 'step'] },
  askReason: { code: 'ar', args: ['flow', 'version', 'reason'] },
  retry: { code: 'rt', args: ['flow', 'version'] },
  reset: { code: 'rs', args: ['flow', 'version'] },
  cancel: { code: 'cn', args: ['flow', 'version'] },
  resend: { code: 'rp', args: ['flow', 'version'] },
  // operator menus
  menu: { code: 'mn', args: [] },
  clients: { code: 'cl', args: ['page'] },
  search: { code: 'se', args: [] },
  client: { code: 'cc', args: ['client'] },
  /** `requestRef`: the request type's stable reference (`requestRef(id)` in src/config/catalogue.ts), never its position. */
  send: { code: 'sd', args: ['client', 'requestRef'] },
  history: { code: 'hi', args: ['client'] },
  historyPage: { code: 'hp', args: ['client', 'page'] },
  /** A file answer on a history page, sent to the operator again. */
  historyFile: { code: 'hf', args: ['flow', 'answer'] },
  reviews: { code: 'rv', args: ['page'] },
  active: { code: 'av', args: ['page'] },
  invite: { code: 'iv', args: [] },
  inviteNew: { code: 'in', args: [] },
  inviteWith: { code: 'iw', args: ['requestRef'] },
  catalogue: { code: 'ct', args: [] },
  reload: { code: 'rl', args: [] },
  // admin
  retryFailed: { code: 'rf', args: [] },
  retryDeliveries: { code: 'rd', args: [] },
  /** /forget: the confirmation (erase this client's data) and the way back. */
  forget: { code: 'fg', args: ['client'] },
  forgetKeep: { code: 'fk', args: [] },
  // export and archives (staff): `request` is a request type's reference (`requestRef(id)` in src/config/catalogue.ts),
  // `period` an index into PERIODS there
  exportMenu: { code: 'xm', args: [] },
  exportType: { code: 'xt', args: ['request'] },
  exportRun: { code: 'xr', args: ['request', 'period'] },
  archiveClient: { code: 'xc', args: ['client'] },
  archiveFlow: { code: 'xf', args: ['flow'] },
  // ownership and the dashboard (staff): lists of what waits, Take, Hand over
  attention: { code: 'oa', args: ['page'] },
  unassigned: { code: 'ou', args: ['page'] },
  take: { code: 'ot', args: ['client'] },
  handOver: { code: 'oh', args: ['client'] },
  handOverTo: { code: 'oo', args: ['client', 'operator'] },
  // always-current cards and review: `action` 0 cancel, 1 reset; `reason` 0 none, 1 typed, 2+ a preset;
  // `screen` 0 the review card, 1 the step picker
  reviewCard: { code: 'rc', args: ['flow', 'version'] },
  stopReason: { code: 'sr', args: ['flow', 'action', 'reason'] },
  stopBack: { code: 'sb', args: ['flow', 'action'] },
  askNext: { code: 'an', args: ['flow', 'version'] },
  askBack: { code: 'ab', args: ['flow', 'version', 'screen'] },
  // conversation: the client's "Message the operator" and its Cancel; the operator's Reply (to a client) and its Cancel
  talk: { code: 'tk', args: [] },
  talkCancel: { code: 'tc', args: [] },
  talkReply: { code: 'tr', args: ['client'] },
  talkReplyCancel: { code: 'tx', args: [] },
  noop: { code: 'no', args: [] },
  // everyone: /language, `locale` an index into LOCALES (machines/definition.ts)
  language: { code: 'lg', args: ['locale'] },
} as const satisfies Record<string, { code: string; args: readonly string[] }>;

type Spec = typeof SPEC;
export type CallbackKind = keyof Spec;

/** A parsed button: its kind and its named integer arguments. */
export type CallbackData = {
  [K in CallbackKind]: { kind: K } & { [A in Spec[K]['args'][number]]: number };
}[CallbackKind];

export type CallbackOf<K extends CallbackKind> = Extract<CallbackData, { kind: K }>;

const BY_CODE = new Map<string, CallbackKind>(Object.entries(SPEC).map(([kind, spec]) => [spec.code, kind as CallbackKind]));
const MAX_BYTES = 64;
const INTEGER = /^(0|[1-9]\d{0,15})$/;

/** The callback_data string for a button. */
export function pack(data: CallbackData): string {
  const spec = SPEC[data.kind];
  const values = spec.args.map((name) => (data as unknown as Record<string, number>)[name]);
  for (const value of values) {
    if (value === undefined || !Number.isSafeInteger(value) || value < 0) {
      throw new Error(`callback ${data.kind}: arguments must be non-negative integers`);
    }
  }
  const packed = [spec.code, ...values].join(':');
  if (Buffer.byteLength(packed) > MAX_BYTES) throw new Error(`callback ${data.kind} exceeds ${MAX_BYTES} bytes`);
  return packed;
}

/** The button a callback_data string stands for, or null when it is not one of ours. */
export function parse(raw: string | undefined): CallbackData | null {
  if (raw === undefined || raw.length > MAX_BYTES) return null;
  const [code, ...parts] = raw.split(':');
  const kind = code === undefined ? undefined : BY_CODE.get(code);
  if (kind === undefined) return null;
  const names = SPEC[kind].args;
  if (parts.length !== names.length || !parts.every((p) => INTEGER.test(p))) return null;
  const values = parts.map(Number);
  if (!values.every(Number.isSafeInteger)) return null;
  const data: Record<string, number | string> = { kind };
  names.forEach((name, i) => (data[name] = values[i] as number));
  return data as CallbackData;
}

/** Whether a parsed button is one a client may press (everything else needs staff). */
export function isClientButton(data: CallbackData): boolean {
  return (
    data.kind === 'skip' ||
    data.kind === 'confirm' ||
    data.kind === 'edit' ||
    data.kind === 'choose' ||
    data.kind === 'language' ||
    data.kind === 'noop' ||
    isTalkButton(data)
  );
}

/** The conversation buttons a client may press: "Message the operator" and its Cancel. */
function isTalkButton(data: CallbackData): boolean {
  return data.kind === 'talk' || data.kind === 'talkCancel';
}

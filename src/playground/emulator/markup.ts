// reply_markup parsing and validation, with Telegram's error descriptions.
import { z } from 'zod';
import { badRequest } from './errors.js';

const INLINE_ACTIONS = [
  'callback_data',
  'url',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
] as const;

const inlineButtonSchema = z.looseObject({
  text: z.string(),
  callback_data: z.string().optional(),
  url: z.string().optional(),
});

// A keyboard button may be a bare string; Telegram treats it as { text }.
const keyboardButtonSchema = z.union([
  z.string().transform((text) => ({ text })),
  z.looseObject({
    text: z.string(),
    request_contact: z.boolean().optional(),
    request_location: z.boolean().optional(),
  }),
]);

// Buttons keep unknown fields (web_app, login_url, ...); markups are closed so `in` narrows between them.
const replyMarkupSchema = z.union([
  z.object({ inline_keyboard: z.array(z.array(inlineButtonSchema)) }),
  z.object({
    keyboard: z.array(z.array(keyboardButtonSchema)),
    resize_keyboard: z.boolean().optional(),
    one_time_keyboard: z.boolean().optional(),
    is_persistent: z.boolean().optional(),
    input_field_placeholder: z.string().optional(),
    selective: z.boolean().optional(),
  }),
  z.object({ remove_keyboard: z.literal(true), selective: z.boolean().optional() }),
  z.object({
    force_reply: z.literal(true),
    input_field_placeholder: z.string().optional(),
    selective: z.boolean().optional(),
  }),
]);

export type InlineKeyboardButton = z.infer<typeof inlineButtonSchema>;
export type KeyboardButton = Exclude<z.infer<typeof keyboardButtonSchema>, string>;
export type ReplyMarkup = z.infer<typeof replyMarkupSchema>;
export type InlineKeyboardMarkup = Extract<ReplyMarkup, { inline_keyboard: unknown }>;

const MAX_CALLBACK_DATA_BYTES = 64;

/** Validates a decoded reply_markup value the way Telegram does. */
export function parseReplyMarkup(value: unknown): ReplyMarkup {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('object expected as reply markup');
  }
  const parsed = replyMarkupSchema.safeParse(value);
  if (!parsed.success) throw badRequest("can't parse reply keyboard markup JSON object");
  const markup = parsed.data;
  if ('inline_keyboard' in markup) {
    for (const button of markup.inline_keyboard.flat()) validateInlineButton(button);
  }
  return markup;
}

/** Like {@link parseReplyMarkup}, but only inline keyboards are allowed (message edits). */
export function parseInlineMarkup(value: unknown): InlineKeyboardMarkup {
  const markup = parseReplyMarkup(value);
  if (!('inline_keyboard' in markup)) throw badRequest('inline keyboard expected');
  return markup;
}

function validateInlineButton(button: InlineKeyboardButton): void {
  const actions = INLINE_ACTIONS.filter((key) => button[key] !== undefined);
  if (actions.length === 0) {
    throw badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
  }
  const data = button.callback_data;
  if (data !== undefined && (data.length === 0 || Buffer.byteLength(data, 'utf8') > MAX_CALLBACK_DATA_BYTES)) {
    throw badRequest('BUTTON_DATA_INVALID');
  }
}

/** The inline keyboard of a markup, if it is one. */
export function inlineKeyboardOf(markup: ReplyMarkup | undefined): InlineKeyboardButton[][] | undefined {
  return markup && 'inline_keyboard' in markup ? markup.inline_keyboard : undefined;
}

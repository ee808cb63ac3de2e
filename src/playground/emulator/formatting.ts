// Message text formatting: parse_mode or explicit entities in, plain text + entities out.
import { z } from 'zod';
import { badRequest } from './errors.js';
import type { Formatted } from './format-common.js';
import { parseHtml } from './format-html.js';
import { parseMarkdown, parseMarkdownV2 } from './format-markdown.js';
import type { MessageEntity } from './types.js';

const entitiesSchema = z.array(
  z.object({
    type: z.string(),
    offset: z.number().int().min(0),
    length: z.number().int().min(1),
    url: z.string().optional(),
    language: z.string().optional(),
    custom_emoji_id: z.string().optional(),
  }),
);

/**
 * Applies `parse_mode` the way Telegram does; explicit `entities` win over `parse_mode`.
 * Throws Telegram's "can't parse entities" errors for malformed markup.
 */
export function formatText(source: string, parseMode: string | undefined, entities: unknown): Formatted {
  if (entities !== undefined) {
    const parsed = entitiesSchema.safeParse(entities);
    if (!parsed.success) throw badRequest("can't parse entities JSON object");
    return { text: source, entities: parsed.data };
  }
  switch (parseMode?.toLowerCase()) {
    case undefined:
    case '':
      return { text: source, entities: [] };
    case 'html':
      return parseHtml(source);
    case 'markdownv2':
      return parseMarkdownV2(source);
    case 'markdown':
      return parseMarkdown(source);
    default:
      throw badRequest('unsupported parse_mode');
  }
}

/** The bot_command entities Telegram adds to text a user sends ("/start", "/help@my_bot"). */
export function commandEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  for (const match of text.matchAll(/(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)(?![A-Za-z0-9_@])/g)) {
    const command = match[2];
    if (command !== undefined) {
      entities.push({ type: 'bot_command', offset: match.index + (match[1]?.length ?? 0), length: command.length });
    }
  }
  return entities;
}

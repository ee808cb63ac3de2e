import { badRequest, type ApiError } from './errors.js';
import type { MessageEntity } from './types.js';

/** Text after parse_mode was applied, with entity offsets in UTF-16 code units. */
export interface Formatted {
  text: string;
  entities: MessageEntity[];
}

export const cantParse = (reason: string): ApiError => badRequest(`can't parse entities: ${reason}`);

/** Telegram reports parse errors at UTF-8 byte offsets of the source text. */
export const byteOffset = (source: string, index: number): number => Buffer.byteLength(source.slice(0, index), 'utf8');

export function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
}

import type { Context } from 'telegraf';
import type { Locale } from '../../machines/definition.js';
import type { Catalogue } from '../config/catalogue.js';
import type { Role } from '../people/roles.js';
import type { OutboxSender } from '../delivery/sender.js';
import type { Conversation } from '../flows/conversation.js';
import type { FlowService } from '../flows/service.js';
import type { Ownership } from '../flows/ownership.js';
import type { Inbox } from '../inbox/inbox.js';
import type { Logger } from '../logger.js';
import type { ResultDeliverer } from '../results/deliverer.js';
import type { MessageLog } from '../log/messages.js';
import type { Directory } from '../people/directory.js';
import type { MessageKey, Params } from '../ui/i18n.js';

/** Menu state only (never request state: that lives in the flow tables). */
export interface SessionData {
  /** The next text the operator types answers this. */
  awaiting?:
    | { kind: 'search' }
    | { kind: 'reason'; flowId: number; version: number }
    /** A cancel (`action` 0) or reset (1) waits for its typed reason. */
    | { kind: 'stopReason'; flowId: number; action: number }
    /** The operator's next message goes to this client (↩️ Reply). */
    | { kind: 'reply'; client: number };
  /** Steps picked for an ask-again, by flow. */
  askAgain?: { flowId: number; version: number; steps: number[]; reasons?: Readonly<Record<string, string>>[] };
  /** A cancel or reset waiting for its confirmation, and whether it replaced a client card. */
  stop?: { flowId: number; onClientCard: boolean };
}

export interface BotDeps {
  readonly flows: FlowService;
  /** Messages passed on between clients and the staff. */
  readonly conversation: Conversation;
  readonly directory: Directory;
  /** Who owns which client; the dashboard's counts and lists; Take and Hand over. */
  readonly ownership: Ownership;
  readonly messageLog: MessageLog;
  readonly sender: OutboxSender;
  readonly catalogue: () => Catalogue;
  /** Re-reads the catalogue file; resolves to the problems when it is broken. */
  readonly reloadCatalogue?: () => Promise<{ ok: true; count: number } | { ok: false; errors: string[] }>;
  readonly defaultLocale: Locale;
  readonly logger: Logger;
  /** The durable inbox (its dead letters are shown to admins); made after the bot, hence a getter. */
  readonly inbox?: () => Inbox;
  /** The result webhook's deliveries (null when none is configured), shown to admins by /deliveries. */
  readonly results?: () => ResultDeliverer | null;
}

export interface BotContext extends Context {
  session: SessionData;
  /** Set for every update with a sender. */
  role: Role;
  locale: Locale;
  deps: BotDeps;
  /** The text in the person's locale. */
  t(key: MessageKey, params?: Params): string;
  /** The message was logged already (by the flow service with its answer). */
  logged: boolean;
}

export const isStaff = (ctx: BotContext): boolean => ctx.from !== undefined && (ctx.role === 'operator' || ctx.role === 'admin');
export const isAdmin = (ctx: BotContext): boolean => ctx.from !== undefined && ctx.role === 'admin';
export const isClient = (ctx: BotContext): boolean => ctx.from !== undefined && ctx.role === 'client';

import type { Locale, RequestDefinition } from '../../machines/definition.js';
import type { InvalidReason, StepValue } from '../../machines/steps.js';
import type { AnswerStatus, FlowStatus } from '../db/schema.js';
import type { LoggedMessage } from '../log/messages.js';

/** Who asked for a change. */
export type Actor =
  | { readonly kind: 'client'; readonly id: number }
  | { readonly kind: 'operator'; readonly id: number }
  | { readonly kind: 'system'; readonly id: null };

/** A person as the flow service needs them: for names in messages and the locale of texts. */
export interface PersonInfo {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string | null;
  readonly username: string | null;
  readonly locale: Locale;
}

/** A message to send, as an outbox row: a Bot API method and its parameters (chat_id added on delivery). */
export interface OutMessage {
  readonly chatId: number;
  readonly method: 'sendMessage' | 'sendPhoto' | 'sendDocument' | 'editMessageText' | 'copyMessage';
  readonly payload: Readonly<Record<string, unknown>>;
  /** A message that later rows edit in place (`editMessageText` rows name the card they edit). */
  readonly cardKey?: string;
}

/** A message the client sent, for the message log. */
export type InboundMessage = LoggedMessage;

/** Why a command was not carried out. Never thrown: returned to the caller. */
export type Refusal =
  | { readonly code: 'duplicate_update' }
  | { readonly code: 'no_active_request' }
  | { readonly code: 'flow_not_found' }
  | { readonly code: 'not_your_request' }
  | { readonly code: 'unknown_request_type'; readonly requestId: string }
  | { readonly code: 'client_not_found' }
  | { readonly code: 'client_not_started' }
  | { readonly code: 'client_blocked' }
  /** The button was made for an earlier version of the request. */
  | { readonly code: 'stale'; readonly status: FlowStatus }
  | { readonly code: 'already_accepted' }
  | { readonly code: 'request_cancelled' }
  | { readonly code: 'request_expired' }
  | { readonly code: 'request_queued' }
  /** The request is in a state where this makes no sense (ACCEPT while the client still answers). */
  | { readonly code: 'not_allowed'; readonly status: FlowStatus }
  | { readonly code: 'cancel_not_allowed' }
  /** Another operator's client (OPERATOR_VISIBILITY=own): only its owner or an admin may act. */
  | { readonly code: 'not_owner' };

/**
 * A client's message that is not an answer now, so it goes to their operator instead (see `passOnRule`):
 * `tell` says whether the client hears so every time (`always`) or once in a while (`quietly`).
 */
export interface PassOn {
  readonly passOn: true;
  readonly tell: 'always' | 'quietly';
  /** A step still waits for the answer (the client is told it does). */
  readonly stepWaits: boolean;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

/** A flow as callers see it. */
export interface FlowSummary {
  readonly id: number;
  readonly clientId: number;
  readonly operatorId: number;
  readonly requestId: string;
  readonly definition: RequestDefinition;
  readonly status: FlowStatus;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One answer of a flow as stored: every round's, with its status. */
export interface AnswerRecord {
  readonly id: number;
  readonly flowId: number;
  readonly stepId: string;
  readonly round: number;
  /** The `StepValue` taken (stored as JSON). */
  readonly value: unknown;
  readonly fileId: string | null;
  readonly fileUniqueId: string | null;
  /** The client's message that carried it. */
  readonly messageId: number | null;
  readonly status: AnswerStatus;
  readonly createdAt: Date;
}

/** One row of a flow's audit trail. */
export interface FlowEventRecord {
  readonly id: number;
  readonly flowId: number;
  readonly fromState: string | null;
  readonly toState: string;
  readonly event: string;
  readonly payload: unknown;
  readonly actorId: number | null;
  readonly actorKind: Actor['kind'];
  readonly at: Date;
}

export interface AnswerResult {
  readonly flow: FlowSummary;
  /** Null when the answer was taken; the reason it was refused otherwise. */
  readonly invalid: InvalidReason | null;
  readonly status: FlowStatus;
}

/** A request the flow service just completed (accepted, or finished without review), for the result webhook. */
export interface CompletedRequest {
  readonly flowId: number;
  /** The definition the flow ran with (frozen). */
  readonly definition: RequestDefinition;
  readonly clientId: number;
  readonly client: { readonly firstName: string; readonly lastName: string | null; readonly username: string | null } | null;
  readonly operatorId: number;
  readonly operator: { readonly firstName: string; readonly lastName: string | null; readonly username: string | null } | null;
  /** Who completed it: the operator who accepted, or the client whose confirmation finished it. */
  readonly actor: Actor;
  readonly at: Date;
  /** The accepted value of each answered step. */
  readonly answers: Readonly<Record<string, StepValue>>;
}

/**
 * Turns a completed request into the body of a result delivery, written in the completing transaction
 * (see src/results/). Without one, nothing is delivered.
 */
export interface ResultSink {
  body(request: CompletedRequest): unknown;
}

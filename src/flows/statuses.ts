import { STATUSES } from '../../machines/view.js';

/** A flow is queued before it starts; then it has its machine's status. The one home of these sets. */
export const FLOW_STATUSES = ['queued', ...STATUSES] as const;
export type FlowStatus = (typeof FLOW_STATUSES)[number];

/** Started and not finished: at most one per client (a partial unique index holds it). */
export const ACTIVE_STATUSES = ['collecting', 'confirming', 'in_review', 'needs_operator'] as const satisfies readonly FlowStatus[];
/** Nothing more happens to these. */
export const FINAL_STATUSES = ['completed', 'cancelled', 'expired'] as const satisfies readonly FlowStatus[];
/** Active, and the client is the one to act: reminders and expiry run only in these. */
export const WAITING_FOR_CLIENT_STATUSES = ['collecting', 'confirming'] as const satisfies readonly (typeof ACTIVE_STATUSES)[number][];
/** Active or waiting in the queue. */
export const OPEN_STATUSES = ['queued', ...ACTIVE_STATUSES] as const satisfies readonly FlowStatus[];

const ACTIVE: ReadonlySet<string> = new Set(ACTIVE_STATUSES);
const FINAL: ReadonlySet<string> = new Set(FINAL_STATUSES);
const WAITING_FOR_CLIENT: ReadonlySet<string> = new Set(WAITING_FOR_CLIENT_STATUSES);

export const isActive = (status: string): boolean => ACTIVE.has(status);
export const isFinal = (status: string): boolean => FINAL.has(status);
export const isWaitingForClient = (status: string): boolean => WAITING_FOR_CLIENT.has(status);

export * from './definition.js';
export {
  INVALID_CODES,
  ageOn,
  compilePattern,
  mediaGroupOf,
  mimeMatches,
  parseDate,
  validateAnswer,
  type Answer,
  type InvalidCode,
  type InvalidReason,
  type StepValue,
  type UnsupportedWhat,
  type ValidationResult,
} from './steps.js';
export {
  EFFECT_TYPES,
  MACHINE_ID,
  TAGS,
  createRequestMachine,
  initialContext,
  type ParkCode,
  type RequestContext,
  type RequestEffect,
  type RequestEvent,
  type RequestEventType,
  type RequestMachine,
  type RequestSnapshot,
  type RequestStateValue,
  type RequestTag,
} from './request.machine.js';
export { STATUSES, answersOf, statusOf, viewOf, type AnswerView, type RequestStatus, type RequestView, type SnapshotLike } from './view.js';
export {
  can,
  initial,
  parkUnrestorable,
  persist,
  restore,
  step,
  type PersistedRequest,
  type RestoreErrorCode,
  type RestoreResult,
  type StepResult,
} from './persist.js';
export { toMermaid } from './mermaid.js';

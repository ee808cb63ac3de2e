/**
 * CSV files for spreadsheets: UTF-8 with a byte order mark (so Excel reads Cyrillic right), CRLF line
 * ends, quoting by csv-stringify, and every cell neutralised against formula injection. The columns are
 * documented in docs/export.md.
 */
import { stringify } from 'csv-stringify/sync';
import { pickText, type Locale, type RequestDefinition, type StepDefinition } from '../../machines/definition.js';
import type { ExportAnswer, ExportFlow } from './store.js';
import { answerText, fullName, isoUtc } from './values.js';

/** The columns before the step columns of a request export, in order. */
export const FLOW_COLUMNS = [
  'request_id',
  'request_title',
  'flow_id',
  'status',
  'client_id',
  'client_name',
  'client_username',
  'operator_id',
  'operator_name',
  'created_at',
  'finished_at',
] as const;

/** The columns of `answers.csv` in an archive (one row per answer). */
export const ANSWER_COLUMNS = [
  'flow_id',
  'request_id',
  'request_title',
  'step_id',
  'step_label',
  'round',
  'status',
  'answer',
  'file',
  'answered_at',
] as const;

/**
 * Rows (header first) as CSV bytes. A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
 * gets a leading `'` (`escape_formulas`), so spreadsheets show it as text instead of evaluating it.
 */
export function toCsv(rows: readonly (readonly string[])[]): Buffer {
  const text = stringify(
    rows.map((row) => [...row]),
    // With a record delimiter of its own, csv-stringify quotes a field holding a lone \n or \r only when asked.
    { bom: true, record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: true },
  );
  return Buffer.from(text, 'utf8');
}

/**
 * The step columns of a request export: the current catalogue entry's steps in order, then steps that
 * only older flows have (from their frozen definitions), in the order first met.
 */
export function stepColumns(current: RequestDefinition | undefined, flows: readonly ExportFlow[]): string[] {
  const ids = new Set(current?.steps.map((s) => s.id) ?? []);
  for (const flow of flows) for (const step of flow.definition.steps) ids.add(step.id);
  return [...ids];
}

/** The answer a request export shows for each step: the latest accepted one, else the latest pending one. */
export function currentAnswers(answers: readonly ExportAnswer[]): Map<number, Map<string, ExportAnswer>> {
  const accepted = new Map<string, ExportAnswer>();
  const pending = new Map<string, ExportAnswer>();
  for (const answer of answers) {
    const key = `${answer.flowId}:${answer.stepId}`;
    if (answer.status === 'accepted') accepted.set(key, answer);
    else if (answer.status === 'pending') pending.set(key, answer);
  }
  const byFlow = new Map<number, Map<string, ExportAnswer>>();
  // Accepted ones are put last, so they win over a pending one of the same step.
  for (const answer of [...pending.values(), ...accepted.values()]) {
    let steps = byFlow.get(answer.flowId);
    if (!steps) byFlow.set(answer.flowId, (steps = new Map<string, ExportAnswer>()));
    steps.set(answer.stepId, answer);
  }
  return byFlow;
}

export interface RequestCsv {
  readonly bytes: Buffer;
  readonly columns: readonly string[];
  /** Flows exported (rows after the header). */
  readonly rows: number;
}

/** One row per flow of one request type, with a column per step (see docs/export.md). */
export function requestCsv(input: {
  readonly current: RequestDefinition | undefined;
  readonly flows: readonly ExportFlow[];
  readonly answers: readonly ExportAnswer[];
  readonly locale: Locale;
}): RequestCsv {
  const steps = stepColumns(input.current, input.flows);
  const fixed: readonly string[] = FLOW_COLUMNS;
  // A step called like a fixed column ("status") keeps its column apart.
  const header = [...fixed, ...steps.map((id) => (fixed.includes(id) ? `step:${id}` : id))];
  const chosen = currentAnswers(input.answers);
  const rows = input.flows.map((flow) => {
    const given = chosen.get(flow.id);
    const cells = steps.map((stepId) => {
      const answer = given?.get(stepId);
      return answer ? answerText(stepOf(flow.definition, input.current, stepId), answer.value, input.locale) : '';
    });
    return [...flowCells(flow, input.locale), ...cells];
  });
  return { bytes: toCsv([header, ...rows]), columns: header, rows: rows.length };
}

function flowCells(flow: ExportFlow, locale: Locale): string[] {
  return [
    flow.requestId,
    pickText(flow.definition.title, locale),
    String(flow.id),
    flow.status,
    String(flow.clientId),
    fullName(flow.client),
    flow.client?.username ?? '',
    String(flow.operatorId),
    fullName(flow.operator),
    isoUtc(flow.createdAt),
    isoUtc(flow.finishedAt),
  ];
}

/** The step as the flow ran it, or as the catalogue has it now. */
export function stepOf(definition: RequestDefinition, current: RequestDefinition | undefined, stepId: string): StepDefinition | undefined {
  return definition.steps.find((s) => s.id === stepId) ?? current?.steps.find((s) => s.id === stepId);
}

/** A step's label in `locale`, or its id. */
export function stepLabelOf(step: StepDefinition | undefined, stepId: string, locale: Locale): string {
  return step?.label ? pickText(step.label, locale) : stepId;
}

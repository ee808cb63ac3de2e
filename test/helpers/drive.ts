import type { FlowService } from '../../src/flows/service.js';
import { OPERATOR, updateId, validAnswer } from './flows.js';

type Active = NonNullable<Awaited<ReturnType<FlowService['activeFlow']>>>;

/** One valid move for whatever the flow shows now: an answer, a confirmation, or acceptance. */
export async function driveOneStep(flows: FlowService, clientId: number, active: Active): Promise<void> {
  const view = active.view;
  const result =
    view.kind === 'prompt'
      ? await flows.answer({ clientId, answer: validAnswer(view.step), updateId: updateId() })
      : view.kind === 'confirm'
        ? await flows.confirm({ clientId, updateId: updateId() })
        : view.kind === 'review'
          ? await flows.accept({ operatorId: OPERATOR, flowId: active.id, updateId: updateId() })
          : null;
  if (result && !result.ok) throw new Error(`${view.kind}: ${result.refusal.code}`);
}

import type { Locale } from '../../machines/definition.js';
import { isoUtc } from '../export/values.js';
import type { CompletedRequest, ResultSink } from '../flows/types.js';
import { answerJson, personJson, requestTypeJson, type ResultBody } from './json.js';
import type { FileLinks } from './links.js';

/** The webhook's JSON for a completed request (see `resultSchema` and docs/api.md#result-webhook). */
export function resultBody(request: CompletedRequest, options: { locale: Locale; links?: FileLinks | undefined }): ResultBody {
  const { links } = options;
  return {
    event: 'request.completed',
    flow_id: request.flowId,
    request: requestTypeJson(request.definition, options.locale),
    client: personJson(request.clientId, request.client),
    operator: personJson(request.operatorId, request.operator),
    accepted_by: { kind: request.actor.kind, id: request.actor.id },
    accepted_at: isoUtc(request.at),
    answers: request.definition.steps.map((step) =>
      answerJson(
        step,
        request.answers[step.id] ?? null,
        options.locale,
        links ? (s) => links.url(request.flowId, s.id, request.at) : undefined,
      ),
    ),
  };
}

/** What the flow service writes for each completed request when the result webhook is configured. */
export function resultSink(options: { locale: Locale; links?: FileLinks | undefined }): ResultSink {
  return { body: (request) => resultBody(request, options) };
}

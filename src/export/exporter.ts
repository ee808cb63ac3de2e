import type { Locale } from '../../machines/definition.js';
import type { Catalogue } from '../config/catalogue.js';
import type { Db } from '../db/client.js';
import { buildArchive, type Archive, type Downloader } from './archive.js';
import { requestCsv, type RequestCsv } from './csv.js';
import { answersInScope, flowsInScope, hasFlowsOf, type ExportFlow, type ExportScope } from './store.js';
import { isoDay } from './values.js';

export interface ExporterDeps {
  readonly db: Db;
  /** The current catalogue: its steps come first in an export, in its order. */
  readonly catalogue: () => Catalogue;
  readonly clock?: () => Date;
}

/** Whose flows: an operator's own (`flows.operator_id`), or everyone's (null: admins, the command line). */
export type Viewer = number | null;

/** One client's flows, or one flow. */
export type ArchiveScope = { readonly clientId: number } | { readonly flowId: number };

/**
 * Exports for spreadsheets and archives for keeping: the bot and the command line use the same one.
 * Read-only: nothing here changes a flow.
 */
export class Exporter {
  private readonly clock: () => Date;

  constructor(private readonly deps: ExporterDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Whether a request id can be exported: it is in the catalogue, or flows of it exist. */
  async knows(requestId: string): Promise<boolean> {
    return this.deps.catalogue().byId.has(requestId) || (await hasFlowsOf(this.deps.db, requestId));
  }

  /** One row per flow of the request type created since `since`, as CSV (see docs/export.md). */
  async requestCsv(input: {
    requestId: string;
    since: Date | null;
    viewer: Viewer;
    locale: Locale;
  }): Promise<RequestCsv & { filename: string }> {
    const scope: ExportScope = { requestId: input.requestId, since: input.since, operatorId: input.viewer };
    const flows = await flowsInScope(this.deps.db, scope);
    const answers = await answersInScope(this.deps.db, scope, ['accepted', 'pending']);
    const csv = requestCsv({ current: this.deps.catalogue().byId.get(input.requestId), flows, answers, locale: input.locale });
    return { ...csv, filename: `${input.requestId}_${isoDay(this.clock())}.csv` };
  }

  /** The flows an archive of `scope` would hold for this viewer, oldest first. */
  flows(scope: ArchiveScope, viewer: Viewer): Promise<ExportFlow[]> {
    return flowsInScope(this.deps.db, { ...scope, operatorId: viewer });
  }

  /**
   * The archive of one client or one flow, with every answer of every round; null when the viewer has no
   * flow in scope. With `download` the files are in it; without, answers.json says they are not.
   */
  async archive(input: {
    scope: ArchiveScope;
    viewer: Viewer;
    locale: Locale;
    download: Downloader | null;
  }): Promise<(Archive & { filename: string }) | null> {
    const scope: ExportScope = { ...input.scope, operatorId: input.viewer };
    const flows = await flowsInScope(this.deps.db, scope);
    if (flows.length === 0) return null;
    const answers = await answersInScope(this.deps.db, scope);
    const now = this.clock();
    const archive = await buildArchive({
      flows,
      answers,
      catalogue: this.deps.catalogue().byId,
      locale: input.locale,
      now,
      download: input.download,
    });
    const name = 'clientId' in input.scope ? `client_${input.scope.clientId}` : `request_${input.scope.flowId}`;
    return { ...archive, filename: `${name}_${isoDay(now)}.zip` };
  }
}

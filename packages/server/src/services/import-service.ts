/**
 * Imports JSONL transcripts (see `import-formats.ts`): each transcript becomes
 * a session whose channels hold the events it would have produced, so its
 * transcript rows come from the same projection as live ones. A session is
 * found by its externalId first, so importing a file again creates nothing.
 * The events are written straight to the store: an imported `user.message`
 * is history, not input, and admits no turn.
 */
import { sessionChannelPath } from '@tether/protocol';
import { AppError } from '../errors.js';
import { jsonRequest } from '../storage/event-appends.js';
import type { Store } from '../storage/types.js';
import type { Clock } from './clock.js';
import { parseImport, type ImportedSession } from './import-formats.js';
import type { Notifier } from './live-hub.js';
import type { SessionService } from './session-service.js';

export interface ImportResult {
  sessions: { id: string; externalId: string | null; created: boolean }[];
  imported: number;
  errors: { line: number; message: string }[];
}

const EVENTS_PER_APPEND = 500;

export class ImportService {
  constructor(private readonly deps: { store: Store; sessions: SessionService; notifier: Notifier; clock: Clock }) {}

  async import(projectId: string, body: string, partial: boolean): Promise<ImportResult> {
    const parsed = parseImport(body);
    if (parsed.errors.length && !partial) {
      throw new AppError('INVALID_IMPORT', `${parsed.errors.length} line(s) are not transcript records; nothing was imported`, {
        errors: parsed.errors,
      });
    }
    if (!parsed.sessions.length && !parsed.errors.length) throw new AppError('INVALID_IMPORT', 'the body holds no transcript records', { errors: [] });
    const result: ImportResult = { sessions: [], imported: 0, errors: parsed.errors };
    const ids = new Map<string, string>();
    // Parents before their children, so a sub-agent's session can name its parent.
    const ordered = [...parsed.sessions].sort((a, b) => Number(a.parentExternalId !== null) - Number(b.parentExternalId !== null));
    for (const session of ordered) {
      const outcome = await this.importSession(projectId, session, ids);
      result.sessions.push(outcome);
      if (outcome.created) result.imported += session.records;
    }
    return result;
  }

  private async importSession(projectId: string, imported: ImportedSession, ids: Map<string, string>) {
    const existing = await this.deps.store.sessions.getSession(projectId, { externalId: imported.externalId });
    if (existing) {
      ids.set(imported.externalId, existing.id);
      return { id: existing.id, externalId: imported.externalId, created: false };
    }
    let parentId: string | undefined;
    if (imported.parentExternalId !== null) {
      parentId = ids.get(imported.parentExternalId)
        ?? (await this.deps.store.sessions.getSession(projectId, { externalId: imported.parentExternalId }))?.id;
    }
    const { session, created } = await this.deps.sessions.create(projectId, {
      externalId: imported.externalId,
      ...(imported.title ? { title: imported.title.slice(0, 500) } : {}),
      ...(imported.agent ? { agent: imported.agent.slice(0, 128) } : {}),
      ...(imported.model ? { model: imported.model.slice(0, 128) } : {}),
      ...(imported.type ? { type: imported.type.slice(0, 128) } : {}),
      ...(imported.tags.length ? { tags: imported.tags.slice(0, 20) } : {}),
      metadata: imported.metadata,
      ...(parentId ? { parentId } : {}),
    });
    ids.set(imported.externalId, session.id);
    if (!created) return { id: session.id, externalId: imported.externalId, created: false };
    for (const channel of ['in', 'out'] as const) {
      const events = imported[channel];
      for (let start = 0; start < events.length; start += EVENTS_PER_APPEND) {
        const request = jsonRequest(sessionChannelPath(session.id, channel), events.slice(start, start + EVENTS_PER_APPEND), this.deps.clock.now());
        const outcome = await this.deps.store.append(request);
        if (outcome.kind !== 'appended') throw new AppError('INTERNAL', `import append failed (${outcome.kind})`);
        this.deps.notifier.publish({ streamId: outcome.meta.id, tail: outcome.meta.tail, closed: outcome.meta.closed, deleted: false });
      }
    }
    return { id: session.id, externalId: imported.externalId, created: true };
  }
}

/**
 * Transcripts, usage, search and retention (DESIGN §6), without HTTP. The rows
 * themselves are written by the stores as events are appended; this service
 * reads them, replays a session's channels into them when asked (forks start
 * from their source's history this way), and deletes what retention allows.
 */
import { sessionChannelPath, type Message, type SearchHit, type SessionContext, type SessionStatus, type SessionUsageReport, type ToolCall } from '@tether/protocol';
import { AppError } from '../errors.js';
import { parseSearchQuery, snippet } from '../storage/search-query.js';
import type { MessageRecord, TranscriptChannel } from '../storage/transcript-rules.js';
import type { Store } from '../storage/types.js';
import type { Clock } from './clock.js';
import type { SessionService } from './session-service.js';
import { decodeRowCursor, decodeSearchCursor, encodeRowCursor, encodeSearchCursor, toApiMessage, toApiToolCall } from './transcript-view.js';

export interface TranscriptServiceDeps {
  store: Store;
  sessions: SessionService;
  clock: Clock;
}

export interface PageInput {
  cursor?: string;
  limit?: number;
}

export interface SearchInput extends PageInput {
  q: string;
  agent?: string;
  tool?: string;
  status?: SessionStatus[];
  tag?: string[];
  type?: string;
  createdAfter?: string;
  createdBefore?: string;
}

const READ_CHUNK = 1000;
const READ_BYTES = 4 * 1024 * 1024;

const time = (value: string | undefined, field: string): number | null => {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError('VALIDATION_FAILED', `${field} is not a date-time`, { field: `querystring.${field}` });
  return ms;
};

export class TranscriptService {
  constructor(private readonly deps: TranscriptServiceDeps) {}

  private get transcripts() {
    return this.deps.store.transcripts;
  }

  async messages(projectId: string, ref: string, page: PageInput): Promise<{ data: Message[]; nextCursor: string | null }> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const limit = page.limit ?? 100;
    const after = page.cursor === undefined ? null : decodeRowCursor(page.cursor);
    const rows = await this.transcripts.listMessages(session.id, after, limit + 1);
    const data = rows.slice(0, limit);
    return { data: data.map(toApiMessage), nextCursor: rows.length > limit ? encodeRowCursor(data.at(-1)!.seq!) : null };
  }

  async toolCalls(projectId: string, ref: string, page: PageInput): Promise<{ data: ToolCall[]; nextCursor: string | null }> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const limit = page.limit ?? 100;
    const after = page.cursor === undefined ? null : decodeRowCursor(page.cursor);
    const rows = await this.transcripts.listToolCalls(session.id, after, limit + 1);
    const data = rows.slice(0, limit);
    return { data: data.map(toApiToolCall), nextCursor: rows.length > limit ? encodeRowCursor(data.at(-1)!.seq!) : null };
  }

  async usage(projectId: string, ref: string): Promise<SessionUsageReport> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const turns = await this.transcripts.usageByTurn(session.id);
    return { session: this.deps.sessions.view(session).usage, turns };
  }

  private async allMessages(sessionId: string): Promise<MessageRecord[]> {
    const all: MessageRecord[] = [];
    for (let after: number | null = null; ; ) {
      const rows = await this.transcripts.listMessages(sessionId, after, READ_CHUNK);
      all.push(...rows);
      if (rows.length < READ_CHUNK) return all;
      after = rows.at(-1)!.seq!;
    }
  }

  private async allToolCalls(sessionId: string) {
    const all = [];
    for (let after: number | null = null; ; ) {
      const rows = await this.transcripts.listToolCalls(sessionId, after, READ_CHUNK);
      all.push(...rows);
      if (rows.length < READ_CHUNK) return all;
      after = rows.at(-1)!.seq!;
    }
  }

  /**
   * What an agent needs to resume: after a `context.compacted` event, its
   * summary and the messages after `upToMessageId`; otherwise every message.
   */
  async context(projectId: string, ref: string): Promise<SessionContext> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const [messages, compaction] = await Promise.all([this.allMessages(session.id), this.transcripts.compaction(session.id)]);
    if (!compaction) return { summary: null, messages: messages.map(toApiMessage) };
    let cut = compaction.upToMessageId === null ? -1 : messages.findIndex((m) => m.id === compaction.upToMessageId);
    if (cut === -1) {
      // No message named: the summary covers what the agent had written before the compaction event.
      messages.forEach((m, index) => {
        if (m.channel === 'out' && m.position < compaction.position) cut = index;
      });
    }
    return { summary: compaction.summary, messages: messages.slice(cut + 1).map(toApiMessage) };
  }

  /** The whole transcript of a session, for export. */
  async transcript(projectId: string, ref: string) {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const [messages, toolCalls, usage, compaction] = await Promise.all([
      this.allMessages(session.id),
      this.allToolCalls(session.id),
      this.usage(projectId, session.id),
      this.transcripts.compaction(session.id),
    ]);
    return {
      session: this.deps.sessions.view(session),
      messages: messages.map(toApiMessage),
      toolCalls: toolCalls.map(toApiToolCall),
      usage,
      context: compaction ? { summary: compaction.summary, upToMessageId: compaction.upToMessageId } : null,
    };
  }

  /**
   * Reads a channel's whole log (following its fork chain), from its oldest
   * retained event: a fork of a trimmed session sees only what was kept.
   */
  private async channelEvents(sessionId: string, channel: TranscriptChannel): Promise<Record<string, unknown>[]> {
    const lookup = await this.deps.store.lookup(sessionChannelPath(sessionId, channel), this.deps.clock.now());
    if (lookup.kind !== 'found') return [];
    const events: Record<string, unknown>[] = [];
    for (let from = await this.deps.store.retainedFrom(lookup.meta); from < lookup.meta.tail; ) {
      const result = await this.deps.store.read(lookup.meta, from, lookup.meta.tail, READ_BYTES);
      if (result.next <= from) break;
      // A bulk read comes joined: one parse of the whole run instead of one per event.
      const run = result.joined
        ? (JSON.parse(`[${result.joined.toString('utf8')}]`) as Record<string, unknown>[])
        : result.items.map((item) => JSON.parse(item.toString('utf8')) as Record<string, unknown>);
      for (const event of run) events.push(event);
      from = result.next;
    }
    return events;
  }

  /** Replaces a session's transcript rows with a replay of its channels. */
  async rebuild(projectId: string, ref: string): Promise<void> {
    const session = await this.deps.sessions.resolve(projectId, ref);
    const [out, inbound] = await Promise.all([this.channelEvents(session.id, 'out'), this.channelEvents(session.id, 'in')]);
    await this.transcripts.rebuild(projectId, session.id, [
      { channel: 'in', events: inbound },
      { channel: 'out', events: out },
    ], this.deps.clock.now());
  }

  /** `sessionId`: only that session's hits, for a caller whose credential covers one session. */
  async search(projectId: string, input: SearchInput, sessionId: string | null = null): Promise<{ data: SearchHit[]; nextCursor: string | null }> {
    const limit = input.limit ?? 20;
    const terms = parseSearchQuery(input.q);
    const after = input.cursor === undefined ? null : decodeSearchCursor(input.cursor);
    const createdAfter = time(input.createdAfter, 'createdAfter');
    const createdBefore = time(input.createdBefore, 'createdBefore');
    if (!terms.length) return { data: [], nextCursor: null };
    const rows = await this.transcripts.search({
      projectId,
      terms,
      sessionId,
      agent: input.agent ?? null,
      tool: input.tool ?? null,
      statuses: input.status ?? [],
      tags: input.tag ?? [],
      type: input.type ?? null,
      createdAfter,
      createdBefore,
      after,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const sessionIds = [...new Set(page.map((row) => row.sessionId))];
    const [sessions, messages] = await Promise.all([
      Promise.all(sessionIds.map((id) => this.deps.store.sessions.getSession(projectId, { id }))),
      this.transcripts.getMessagesBySeq(page.flatMap((row) => (row.messageSeq === null ? [] : [row.messageSeq]))),
    ]);
    const sessionById = new Map(sessions.flatMap((s) => (s ? [[s.id, this.deps.sessions.view(s)] as const] : [])));
    const messageBySeq = new Map(messages.map((m) => [m.seq!, toApiMessage(m)]));
    const data: SearchHit[] = [];
    for (const row of page) {
      const session = sessionById.get(row.sessionId);
      // A session deleted between the two reads is simply left out.
      if (!session) continue;
      data.push({
        session,
        message: row.messageSeq === null ? null : (messageBySeq.get(row.messageSeq) ?? null),
        kind: row.kind,
        snippet: snippet(row.text ?? '', terms),
        score: row.score,
      });
    }
    const last = page.at(-1);
    return { data, nextCursor: rows.length > limit && last ? encodeSearchCursor(last.score, last.key) : null };
  }

  /**
   * Deletes up to `limit` sessions closed more than `maxAgeMs` ago. Safe on
   * several replicas at once: each delete is its own transaction, and a
   * session another replica deleted first is skipped.
   */
  async sweepRetention(maxAgeMs: number, limit: number): Promise<number> {
    const due = await this.transcripts.closedBefore(this.deps.clock.now() - maxAgeMs, limit);
    let deleted = 0;
    for (const { projectId, id } of due) {
      try {
        await this.deps.sessions.delete(projectId, id);
        deleted++;
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'SESSION_NOT_FOUND')) throw error;
      }
    }
    return deleted;
  }
}

/**
 * Transcripts on SQLite: `projectInTx` runs inside the append that carries the
 * events (the store calls it from `appendInTx`), so the rows and the events
 * commit together. Search uses the FTS5 tables of migration 5.
 */
import type Database from 'better-sqlite3';
import { SQLITE_ROWS } from '../row-mappers.js';
import {
  channelOfPath,
  mayProject,
  projectEvents,
  referencedIds,
  type Compaction,
  type MessageRecord,
  type ToolCallRecord,
  type TranscriptChannel,
  type TranscriptPlan,
} from '../transcript-rules.js';
import { jsonText, messageFromRow, toolCallFromRow, usageFromRow, type MessageRow, type ToolCallRow, type UsageTotalsRow } from '../transcript-rows.js';
import type { SearchQuery, SearchRow, TranscriptStore } from '../transcript-types.js';
import type { WriteBatcher } from './write-batcher.js';
import { searchSqlite } from './sqlite-search.js';

const messageParams = (m: MessageRecord) => ({
  id: m.id, projectId: m.projectId, sessionId: m.sessionId, turnId: m.turnId, channel: m.channel, position: m.position,
  role: m.role, text: m.text, content: jsonText(m.content), model: m.model, status: m.status, usage: jsonText(m.usage),
  createdAt: m.createdAt, updatedAt: m.updatedAt,
});

const toolParams = (t: ToolCallRecord) => ({
  id: t.id, projectId: t.projectId, sessionId: t.sessionId, turnId: t.turnId, name: t.name, input: jsonText(t.input),
  output: jsonText(t.output), isError: t.isError ? 1 : 0, durationMs: t.durationMs, truncated: t.truncated ? 1 : 0,
  position: t.position, resultPosition: t.resultPosition, createdAt: t.createdAt, completedAt: t.completedAt,
});

export class SqliteTranscripts implements TranscriptStore {
  private readonly sql;

  constructor(
    private readonly db: Database.Database,
    private readonly writes: WriteBatcher,
  ) {
    this.sql = {
      head: db.prepare('SELECT project_id, active_turn_id FROM sessions WHERE id = ?'),
      message: db.prepare('SELECT * FROM messages WHERE session_id = ? AND id = ?'),
      toolCall: db.prepare('SELECT * FROM tool_calls WHERE session_id = ? AND id = ?'),
      insertMessage: db.prepare(`INSERT INTO messages (id, project_id, session_id, turn_id, channel, position, role, text,
          content, model, status, usage, created_at, updated_at)
        VALUES (@id, @projectId, @sessionId, @turnId, @channel, @position, @role, @text, @content, @model, @status, @usage,
          @createdAt, @updatedAt)`),
      updateMessage: db.prepare(`UPDATE messages SET turn_id = @turnId, role = @role, text = @text, content = @content,
        model = @model, status = @status, usage = @usage, updated_at = @updatedAt WHERE session_id = @sessionId AND id = @id`),
      insertTool: db.prepare(`INSERT INTO tool_calls (id, project_id, session_id, turn_id, name, input, output, is_error,
          duration_ms, truncated, position, result_position, created_at, completed_at)
        VALUES (@id, @projectId, @sessionId, @turnId, @name, @input, @output, @isError, @durationMs, @truncated, @position,
          @resultPosition, @createdAt, @completedAt)`),
      updateTool: db.prepare(`UPDATE tool_calls SET turn_id = @turnId, name = @name, input = @input, output = @output,
        is_error = @isError, duration_ms = @durationMs, truncated = @truncated, result_position = @resultPosition,
        completed_at = @completedAt WHERE session_id = @sessionId AND id = @id`),
      insertUsage: db.prepare(`INSERT INTO usage_records (project_id, session_id, turn_id, position, input_tokens,
          output_tokens, cached_input_tokens, cost_usd, model, created_at)
        VALUES (@projectId, @sessionId, @turnId, @position, @inputTokens, @outputTokens, @cachedInputTokens, @costUsd,
          @model, @createdAt)`),
      assignMessages: db.prepare(`UPDATE messages SET turn_id = ? WHERE session_id = ? AND turn_id IS NULL AND channel = 'out' AND position < ?`),
      assignTools: db.prepare('UPDATE tool_calls SET turn_id = ? WHERE session_id = ? AND turn_id IS NULL AND position < ?'),
      assignUsage: db.prepare('UPDATE usage_records SET turn_id = ? WHERE session_id = ? AND turn_id IS NULL AND position < ?'),
      compact: db.prepare(`INSERT INTO session_compactions (session_id, summary, up_to_message_id, position) VALUES (?, ?, ?, ?)
        ON CONFLICT (session_id) DO UPDATE SET summary = excluded.summary, up_to_message_id = excluded.up_to_message_id,
          position = excluded.position`),
      counters: db.prepare(`UPDATE sessions SET message_count = message_count + @messages,
        input_tokens = input_tokens + @inputTokens, output_tokens = output_tokens + @outputTokens,
        cached_input_tokens = cached_input_tokens + @cachedInputTokens, cost_usd = cost_usd + @costUsd,
        last_assistant_text = CASE WHEN @setLast = 1 THEN @lastAssistantText ELSE last_assistant_text END WHERE id = @id`),
      resetCounters: db.prepare(`UPDATE sessions SET message_count = 0, input_tokens = 0, output_tokens = 0,
        cached_input_tokens = 0, cost_usd = 0, last_assistant_text = NULL WHERE id = ?`),
      listMessages: db.prepare('SELECT * FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      listTools: db.prepare('SELECT * FROM tool_calls WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      usageByTurn: db.prepare(`SELECT turn_id, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cached_input_tokens) AS cached_input_tokens, sum(cost_usd) AS cost_usd
        FROM usage_records WHERE session_id = ? GROUP BY turn_id ORDER BY min(seq)`),
      compaction: db.prepare('SELECT summary, up_to_message_id, position FROM session_compactions WHERE session_id = ?'),
      closedBefore: db.prepare(`SELECT project_id AS projectId, id FROM sessions WHERE closed_at IS NOT NULL AND closed_at < ?
        ORDER BY closed_at LIMIT ?`),
      deleteMessages: db.prepare('DELETE FROM messages WHERE session_id = ?'),
      deleteTools: db.prepare('DELETE FROM tool_calls WHERE session_id = ?'),
      deleteUsage: db.prepare('DELETE FROM usage_records WHERE session_id = ?'),
      deleteCompaction: db.prepare('DELETE FROM session_compactions WHERE session_id = ?'),
    };
  }

  /** Projects an accepted append of JSON messages to a session channel; called inside its transaction. */
  projectInTx(path: string, startPosition: number, messages: Buffer[], now: number): void {
    const channel = channelOfPath(path);
    if (!channel || !mayProject(messages)) return;
    const head = this.sql.head.get(channel.sessionId) as { project_id: string; active_turn_id: string | null } | undefined;
    if (!head) return;
    const events = messages.map((message) => JSON.parse(message.toString('utf8')) as Record<string, unknown>);
    this.apply(head.project_id, channel.sessionId, channel.channel, startPosition, events, head.active_turn_id, now);
  }

  private apply(
    projectId: string,
    sessionId: string,
    channel: TranscriptChannel,
    startPosition: number,
    events: Record<string, unknown>[],
    activeTurnId: string | null,
    now: number,
  ): void {
    const ids = referencedIds(channel, events, startPosition);
    const messages = new Map<string, MessageRecord>();
    for (const id of ids.messageIds) {
      const row = this.sql.message.get(sessionId, id) as MessageRow | undefined;
      if (row) messages.set(id, messageFromRow(row, SQLITE_ROWS));
    }
    const toolCalls = new Map<string, ToolCallRecord>();
    for (const id of ids.toolCallIds) {
      const row = this.sql.toolCall.get(sessionId, id) as ToolCallRow | undefined;
      if (row) toolCalls.set(id, toolCallFromRow(row, SQLITE_ROWS));
    }
    const plan = projectEvents({ projectId, sessionId, channel, startPosition, events, activeTurnId, messages, toolCalls, now });
    this.write(sessionId, plan);
  }

  private write(sessionId: string, plan: TranscriptPlan): void {
    for (const { record, isNew } of plan.messages) (isNew ? this.sql.insertMessage : this.sql.updateMessage).run(messageParams(record));
    for (const { record, isNew } of plan.toolCalls) (isNew ? this.sql.insertTool : this.sql.updateTool).run(toolParams(record));
    for (const usage of plan.usage) this.sql.insertUsage.run(usage);
    for (const end of plan.turnEnds) {
      this.sql.assignMessages.run(end.turnId, sessionId, end.position);
      this.sql.assignTools.run(end.turnId, sessionId, end.position);
      this.sql.assignUsage.run(end.turnId, sessionId, end.position);
    }
    if (plan.compaction) {
      const c = plan.compaction;
      this.sql.compact.run(sessionId, c.summary, c.upToMessageId, c.position);
    }
    const { counters } = plan;
    if (counters.messages || counters.inputTokens || counters.outputTokens || counters.cachedInputTokens || counters.costUsd || counters.lastAssistantText !== undefined) {
      this.sql.counters.run({
        ...counters,
        setLast: counters.lastAssistantText === undefined ? 0 : 1,
        lastAssistantText: counters.lastAssistantText ?? null,
        id: sessionId,
      });
    }
  }

  deleteInTx(sessionId: string): void {
    this.sql.deleteMessages.run(sessionId);
    this.sql.deleteTools.run(sessionId);
    this.sql.deleteUsage.run(sessionId);
    this.sql.deleteCompaction.run(sessionId);
  }

  async rebuild(projectId: string, sessionId: string, logs: { channel: TranscriptChannel; events: Record<string, unknown>[] }[], now: number): Promise<void> {
    await this.writes.submit(() => {
      this.deleteInTx(sessionId);
      this.sql.resetCounters.run(sessionId);
      for (const log of logs) {
        if (log.events.length) this.apply(projectId, sessionId, log.channel, 0, log.events, null, now);
      }
    });
  }

  listMessages(sessionId: string, afterSeq: number | null, limit: number): Promise<MessageRecord[]> {
    return this.writes.read(() => (this.sql.listMessages.all(sessionId, afterSeq ?? 0, limit) as MessageRow[]).map((row) => messageFromRow(row, SQLITE_ROWS)));
  }

  getMessagesBySeq(seqs: number[]): Promise<MessageRecord[]> {
    return this.writes.read(() => {
      if (!seqs.length) return [];
      const rows = this.db.prepare(`SELECT * FROM messages WHERE seq IN (${seqs.map(() => '?').join(', ')})`).all(...seqs) as MessageRow[];
      return rows.map((row) => messageFromRow(row, SQLITE_ROWS));
    });
  }

  listToolCalls(sessionId: string, afterSeq: number | null, limit: number): Promise<ToolCallRecord[]> {
    return this.writes.read(() => (this.sql.listTools.all(sessionId, afterSeq ?? 0, limit) as ToolCallRow[]).map((row) => toolCallFromRow(row, SQLITE_ROWS)));
  }

  usageByTurn(sessionId: string) {
    return this.writes.read(() => (this.sql.usageByTurn.all(sessionId) as UsageTotalsRow[]).map(usageFromRow));
  }

  compaction(sessionId: string): Promise<Compaction | null> {
    return this.writes.read(() => {
      const row = this.sql.compaction.get(sessionId) as { summary: string; up_to_message_id: string | null; position: number } | undefined;
      return row ? { summary: row.summary, upToMessageId: row.up_to_message_id, position: row.position } : null;
    });
  }

  closedBefore(before: number, limit: number): Promise<{ projectId: string; id: string }[]> {
    return this.writes.read(() => this.sql.closedBefore.all(before, limit) as { projectId: string; id: string }[]);
  }

  search(query: SearchQuery): Promise<SearchRow[]> {
    return this.writes.read(() => searchSqlite(this.db, query));
  }
}

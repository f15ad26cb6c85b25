/**
 * Transcripts on PostgreSQL. `projectAppends` runs inside an append batch's
 * transaction (see `append-batch.ts`), so rows and events commit together.
 * Sessions whose channels a batch projects into are locked before the batch
 * locks its streams: turn mutations lock a session and then its streams, and
 * the same order here keeps the two from deadlocking.
 */
import { POSTGRES_ROWS } from '../row-mappers.js';
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
import type { AppendRequest } from '../types.js';
import { guarded, transaction, type Db, type Tx } from './connection.js';
import { arrayLiteral } from './sql-arrays.js';
import { searchPostgres } from './postgres-search.js';

export interface AcceptedAppend {
  path: string;
  startPosition: number;
  messages: Buffer[];
  now: number;
}

interface Head {
  id: string;
  project_id: string;
  active_turn_id: string | null;
}

/** The sessions an append batch will project into, if any (checked before any lock is taken). */
export function projectedSessions(requests: AppendRequest[]): string[] {
  const ids = new Set<string>();
  for (const request of requests) {
    if (request.body.kind !== 'json') continue;
    const channel = channelOfPath(request.path);
    if (channel && mayProject(request.body.messages)) ids.add(channel.sessionId);
  }
  return [...ids].sort();
}

/** Locks the sessions (in id order) and returns their heads. */
export async function lockSessions(tx: Tx, ids: string[]): Promise<Map<string, Head>> {
  if (!ids.length) return new Map();
  const rows = await tx<Head[]>`SELECT id, project_id, active_turn_id FROM sessions
    WHERE id = ANY(${arrayLiteral(ids)}::text[]) ORDER BY id FOR UPDATE`;
  return new Map(rows.map((row) => [row.id, row]));
}

export async function projectAppends(tx: Tx, heads: Map<string, Head>, accepted: AcceptedAppend[]): Promise<void> {
  // Appends to one channel in a batch are consecutive on it: project them as one run.
  const runs = new Map<string, { sessionId: string; channel: TranscriptChannel; start: number; events: Record<string, unknown>[]; now: number }>();
  for (const append of accepted) {
    const channel = channelOfPath(append.path);
    if (!channel || !heads.has(channel.sessionId) || !mayProject(append.messages)) continue;
    const events = append.messages.map((m) => JSON.parse(m.toString('utf8')) as Record<string, unknown>);
    const run = runs.get(append.path);
    if (run && run.start + run.events.length === append.startPosition) {
      run.events.push(...events);
      run.now = append.now;
    } else if (!run) {
      runs.set(append.path, { ...channel, start: append.startPosition, events, now: append.now });
    } else {
      await projectRun(tx, heads.get(run.sessionId)!, run);
      runs.set(append.path, { ...channel, start: append.startPosition, events, now: append.now });
    }
  }
  // Runs touch different channels' rows; the driver pipelines them on the transaction's connection.
  await Promise.all([...runs.values()].map((run) => projectRun(tx, heads.get(run.sessionId)!, run)));
}

async function projectRun(
  tx: Tx,
  head: Head,
  run: { sessionId: string; channel: TranscriptChannel; start: number; events: Record<string, unknown>[]; now: number },
  activeTurnId: string | null = head.active_turn_id,
): Promise<void> {
  const ids = referencedIds(run.channel, run.events, run.start);
  const [messageRows, toolRows] = await Promise.all([
    ids.messageIds.length
      ? tx<MessageRow[]>`SELECT * FROM messages WHERE session_id = ${run.sessionId} AND id = ANY(${arrayLiteral(ids.messageIds)}::text[])`
      : Promise.resolve([] as MessageRow[]),
    ids.toolCallIds.length
      ? tx<ToolCallRow[]>`SELECT * FROM tool_calls WHERE session_id = ${run.sessionId} AND id = ANY(${arrayLiteral(ids.toolCallIds)}::text[])`
      : Promise.resolve([] as ToolCallRow[]),
  ]);
  const plan = projectEvents({
    projectId: head.project_id,
    sessionId: run.sessionId,
    channel: run.channel,
    startPosition: run.start,
    events: run.events,
    activeTurnId,
    messages: new Map(messageRows.map((row) => [row.id, messageFromRow(row, POSTGRES_ROWS)])),
    toolCalls: new Map(toolRows.map((row) => [row.id, toolCallFromRow(row, POSTGRES_ROWS)])),
    now: run.now,
  });
  await writePlan(tx, run.sessionId, plan);
}

async function writePlan(tx: Tx, sessionId: string, plan: TranscriptPlan): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const { record: m, isNew } of plan.messages) {
    writes.push(
      isNew
        ? tx`INSERT INTO messages (id, project_id, session_id, turn_id, channel, position, role, text, content, model, status,
              usage, created_at, updated_at)
            VALUES (${m.id}, ${m.projectId}, ${m.sessionId}, ${m.turnId}, ${m.channel}, ${m.position}, ${m.role}, ${m.text},
              ${jsonText(m.content)}::text::jsonb, ${m.model}, ${m.status}, ${jsonText(m.usage)}::text::jsonb, ${m.createdAt},
              ${m.updatedAt})`
        : tx`UPDATE messages SET turn_id = ${m.turnId}, role = ${m.role}, text = ${m.text},
              content = ${jsonText(m.content)}::text::jsonb, model = ${m.model}, status = ${m.status},
              usage = ${jsonText(m.usage)}::text::jsonb, updated_at = ${m.updatedAt}
            WHERE session_id = ${sessionId} AND id = ${m.id}`,
    );
  }
  for (const { record: t, isNew } of plan.toolCalls) {
    writes.push(
      isNew
        ? tx`INSERT INTO tool_calls (id, project_id, session_id, turn_id, name, input, output, is_error, duration_ms, truncated,
              position, result_position, created_at, completed_at)
            VALUES (${t.id}, ${t.projectId}, ${t.sessionId}, ${t.turnId}, ${t.name}, ${jsonText(t.input)}::text::jsonb,
              ${jsonText(t.output)}::text::jsonb, ${t.isError}, ${t.durationMs}, ${t.truncated}, ${t.position},
              ${t.resultPosition}, ${t.createdAt}, ${t.completedAt})`
        : tx`UPDATE tool_calls SET turn_id = ${t.turnId}, name = ${t.name}, input = ${jsonText(t.input)}::text::jsonb,
              output = ${jsonText(t.output)}::text::jsonb, is_error = ${t.isError}, duration_ms = ${t.durationMs},
              truncated = ${t.truncated}, result_position = ${t.resultPosition}, completed_at = ${t.completedAt}
            WHERE session_id = ${sessionId} AND id = ${t.id}`,
    );
  }
  for (const u of plan.usage) {
    writes.push(tx`INSERT INTO usage_records (project_id, session_id, turn_id, position, input_tokens, output_tokens,
        cached_input_tokens, cost_usd, model, created_at)
      VALUES (${u.projectId}, ${u.sessionId}, ${u.turnId}, ${u.position}, ${u.inputTokens}, ${u.outputTokens},
        ${u.cachedInputTokens}, ${u.costUsd}, ${u.model}, ${u.createdAt})`);
  }
  if (plan.compaction) {
    const c = plan.compaction;
    writes.push(tx`INSERT INTO session_compactions (session_id, summary, up_to_message_id, position)
      VALUES (${sessionId}, ${c.summary}, ${c.upToMessageId}, ${c.position})
      ON CONFLICT (session_id) DO UPDATE SET summary = excluded.summary, up_to_message_id = excluded.up_to_message_id,
        position = excluded.position`);
  }
  const c = plan.counters;
  if (c.messages || c.inputTokens || c.outputTokens || c.cachedInputTokens || c.costUsd || c.lastAssistantText !== undefined) {
    const setLast = c.lastAssistantText !== undefined;
    writes.push(tx`UPDATE sessions SET message_count = message_count + ${c.messages},
        input_tokens = input_tokens + ${c.inputTokens}, output_tokens = output_tokens + ${c.outputTokens},
        cached_input_tokens = cached_input_tokens + ${c.cachedInputTokens}, cost_usd = cost_usd + ${c.costUsd},
        last_assistant_text = CASE WHEN ${setLast} THEN ${c.lastAssistantText ?? null}::text ELSE last_assistant_text END
      WHERE id = ${sessionId}`);
  }
  await Promise.all(writes);
  // After the rows are written, so rows of this same plan are assigned too.
  for (const end of plan.turnEnds) {
    await Promise.all([
      tx`UPDATE messages SET turn_id = ${end.turnId} WHERE session_id = ${sessionId} AND turn_id IS NULL AND channel = 'out' AND position < ${end.position}`,
      tx`UPDATE tool_calls SET turn_id = ${end.turnId} WHERE session_id = ${sessionId} AND turn_id IS NULL AND position < ${end.position}`,
      tx`UPDATE usage_records SET turn_id = ${end.turnId} WHERE session_id = ${sessionId} AND turn_id IS NULL AND position < ${end.position}`,
    ]);
  }
}

export async function deleteTranscriptInTx(tx: Tx, sessionId: string): Promise<void> {
  await Promise.all([
    tx`DELETE FROM messages WHERE session_id = ${sessionId}`,
    tx`DELETE FROM tool_calls WHERE session_id = ${sessionId}`,
    tx`DELETE FROM usage_records WHERE session_id = ${sessionId}`,
    tx`DELETE FROM session_compactions WHERE session_id = ${sessionId}`,
  ]);
}

export class PostgresTranscripts implements TranscriptStore {
  constructor(private readonly db: Db) {}

  async rebuild(projectId: string, sessionId: string, logs: { channel: TranscriptChannel; events: Record<string, unknown>[] }[], now: number): Promise<void> {
    await transaction(this.db, async (tx) => {
      const heads = await lockSessions(tx, [sessionId]);
      const head = heads.get(sessionId);
      if (!head || head.project_id !== projectId) return;
      await deleteTranscriptInTx(tx, sessionId);
      await tx`UPDATE sessions SET message_count = 0, input_tokens = 0, output_tokens = 0, cached_input_tokens = 0,
        cost_usd = 0, last_assistant_text = NULL WHERE id = ${sessionId}`;
      for (const log of logs) {
        if (log.events.length) await projectRun(tx, head, { sessionId, channel: log.channel, start: 0, events: log.events, now }, null);
      }
    });
  }

  async listMessages(sessionId: string, afterSeq: number | null, limit: number): Promise<MessageRecord[]> {
    const rows = await guarded(this.db<MessageRow[]>`SELECT * FROM messages WHERE session_id = ${sessionId}
      AND seq > ${afterSeq ?? 0} ORDER BY seq LIMIT ${limit}`);
    return rows.map((row) => messageFromRow(row, POSTGRES_ROWS));
  }

  async getMessagesBySeq(seqs: number[]): Promise<MessageRecord[]> {
    if (!seqs.length) return [];
    const rows = await guarded(this.db<MessageRow[]>`SELECT * FROM messages WHERE seq = ANY(${arrayLiteral(seqs)}::bigint[])`);
    return rows.map((row) => messageFromRow(row, POSTGRES_ROWS));
  }

  async listToolCalls(sessionId: string, afterSeq: number | null, limit: number): Promise<ToolCallRecord[]> {
    const rows = await guarded(this.db<ToolCallRow[]>`SELECT * FROM tool_calls WHERE session_id = ${sessionId}
      AND seq > ${afterSeq ?? 0} ORDER BY seq LIMIT ${limit}`);
    return rows.map((row) => toolCallFromRow(row, POSTGRES_ROWS));
  }

  async usageByTurn(sessionId: string) {
    const rows = await guarded(this.db<UsageTotalsRow[]>`SELECT turn_id, sum(input_tokens) AS input_tokens,
        sum(output_tokens) AS output_tokens, sum(cached_input_tokens) AS cached_input_tokens, sum(cost_usd) AS cost_usd
      FROM usage_records WHERE session_id = ${sessionId} GROUP BY turn_id ORDER BY min(seq)`);
    return rows.map(usageFromRow);
  }

  async compaction(sessionId: string): Promise<Compaction | null> {
    const [row] = await guarded(this.db<{ summary: string; up_to_message_id: string | null; position: number }[]>`
      SELECT summary, up_to_message_id, position FROM session_compactions WHERE session_id = ${sessionId}`);
    return row ? { summary: row.summary, upToMessageId: row.up_to_message_id, position: row.position } : null;
  }

  async closedBefore(before: number, limit: number): Promise<{ projectId: string; id: string }[]> {
    return guarded(this.db<{ projectId: string; id: string }[]>`SELECT project_id AS "projectId", id FROM sessions
      WHERE closed_at IS NOT NULL AND closed_at < ${before} ORDER BY closed_at LIMIT ${limit}`);
  }

  async search(query: SearchQuery): Promise<SearchRow[]> {
    return guarded(searchPostgres(this.db, query));
  }
}

/**
 * The transcript half of the storage contract (DESIGN §6): messages, tool
 * calls and usage projected from channel events in the append's transaction,
 * full-text search over them, and the retention sweep's queries.
 */
import type { SessionStatus, TurnUsage } from '@tether/protocol';
import type { Compaction, MessageRecord, ToolCallRecord, TranscriptChannel } from './transcript-rules.js';

export interface SearchQuery {
  projectId: string;
  /** The parsed query; see `search-query.ts`. */
  terms: SearchTerm[];
  /** Only this session's hits (a session token searches its own session). */
  sessionId: string | null;
  agent: string | null;
  tool: string | null;
  statuses: SessionStatus[];
  tags: string[];
  type: string | null;
  createdAfter: number | null;
  createdBefore: number | null;
  /** Resume after this hit (relevance order). */
  after: { score: number; key: string } | null;
  limit: number;
}

export type SearchTerm = { kind: 'word'; text: string; prefix: boolean } | { kind: 'phrase'; words: string[] };

export interface SearchRow {
  kind: 'message' | 'tool' | 'title';
  sessionId: string;
  /** A stable key for paging: the kind and the row's own key. */
  key: string;
  score: number;
  /** The text the hit matched, for the snippet. */
  text: string;
  /** For message hits. */
  messageSeq: number | null;
}

export interface TranscriptStore {
  /** Messages of a session in order, after the row with `afterSeq`. */
  listMessages(sessionId: string, afterSeq: number | null, limit: number): Promise<MessageRecord[]>;
  getMessagesBySeq(seqs: number[]): Promise<MessageRecord[]>;
  listToolCalls(sessionId: string, afterSeq: number | null, limit: number): Promise<ToolCallRecord[]>;
  /** Usage per turn (null: usage reported outside any turn), in order of first report. */
  usageByTurn(sessionId: string): Promise<TurnUsage[]>;
  compaction(sessionId: string): Promise<Compaction | null>;
  /** Throws the whole projection of a session away and replays its channel logs (read by the caller). */
  rebuild(projectId: string, sessionId: string, logs: { channel: TranscriptChannel; events: Record<string, unknown>[] }[], now: number): Promise<void>;
  search(query: SearchQuery): Promise<SearchRow[]>;
  /** Closed or expired sessions whose `closedAt` is before `before`, oldest first. */
  closedBefore(before: number, limit: number): Promise<{ projectId: string; id: string }[]>;
}

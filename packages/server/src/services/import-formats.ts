/**
 * Reads JSONL transcripts into the channel events that would have produced
 * them. Two formats, told apart line by line by `type`:
 *
 * - Tether's own export (`?format=jsonl`): a `session` line, then `message`,
 *   `toolCall` and `usage` lines.
 * - Claude Code's on-disk transcripts: `user`, `assistant` and `summary` lines
 *   with `uuid`, `sessionId` and a `message` of `role`, `model`, `usage` and
 *   `content` (a string, or `text`, `tool_use` and `tool_result` blocks).
 *   Side-chain lines (`isSidechain`) are a sub-agent's: they become a child
 *   session of the conversation they belong to.
 *
 * Pure: the import service creates the sessions and appends the events.
 */

export interface ImportedSession {
  /** The session's externalId: importing it again finds it instead of creating another. */
  externalId: string;
  parentExternalId: string | null;
  title: string | null;
  agent: string | null;
  model: string | null;
  type: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  out: Record<string, unknown>[];
  in: Record<string, unknown>[];
  records: number;
}

export interface ParsedImport {
  sessions: ImportedSession[];
  errors: { line: number; message: string }[];
}

/** Claude Code line types that carry nothing for a transcript. */
const IGNORED_CLAUDE_TYPES = new Set(['system', 'file-history-snapshot', 'queue-operation']);

import { MAX_METADATA_BYTES, MAX_TAGS } from '@tether/protocol';

const TAG = /^[^\s,]{1,64}$/;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const EXTERNAL_ID_MAX = 256;

class LineError extends Error {}

interface ParseState {
  /** The session the last Tether `session` line opened. */
  current: ImportedSession | null;
  sessions: ImportedSession[];
  /** Tether `out` events with the offsets they had, put back in that order at the end. */
  positions: Map<ImportedSession, [number, Record<string, unknown>][]>;
  claude: Map<string, ImportedSession>;
  usageSeen: Set<string>;
  /** Claude Code summaries seen before any conversation line, with their line numbers. */
  pendingSummaries: [number, Record<string, unknown>][];
  line: number;
  /** The last `session` line was refused. */
  refused: boolean;
}

function fail(message: string): never {
  throw new LineError(message);
}

function blankSession(externalId: string, parentExternalId: string | null): ImportedSession {
  return { externalId, parentExternalId, title: null, agent: null, model: null, type: null, tags: [], metadata: {}, out: [], in: [], records: 0 };
}

function externalIdFor(id: string): string {
  const externalId = id.startsWith('ses_') ? `import-${id}` : id;
  if (externalId.length > EXTERNAL_ID_MAX) fail('session id is too long');
  return externalId;
}

/** Tether export lines; `current` is the session the last `session` line opened. */
function tetherLine(record: Record<string, unknown>, state: ParseState): void {
  const type = record.type;
  if (type === 'session') {
    // Until this line is accepted, records after it belong to no session (not to the one before).
    state.current = null;
    state.refused = true;
    const session = record.session;
    if (!isObject(session) || typeof session.id !== 'string') fail('`session` needs an object with an `id`');
    const imported = blankSession(externalIdFor(str(session.externalId) ?? session.id), null);
    imported.title = str(session.title);
    imported.agent = str(session.agent);
    imported.model = str(session.model);
    imported.type = str(session.type);
    // The same limits the session routes enforce, checked before anything is written.
    const tags = session.tags === undefined || session.tags === null ? [] : session.tags;
    if (!Array.isArray(tags) || tags.length > MAX_TAGS || new Set(tags).size !== tags.length || !tags.every((t) => typeof t === 'string' && TAG.test(t))) {
      fail(`\`tags\` must be at most ${MAX_TAGS} distinct tags without spaces or commas`);
    }
    imported.tags = tags as string[];
    imported.metadata = isObject(session.metadata) ? session.metadata : {};
    if (Buffer.byteLength(JSON.stringify(imported.metadata)) > MAX_METADATA_BYTES) fail(`\`metadata\` is larger than ${MAX_METADATA_BYTES} bytes`);
    imported.records = 1;
    state.current = imported;
    state.refused = false;
    state.sessions.push(imported);
    state.positions.set(imported, []);
    return;
  }
  const session = state.current ?? fail(state.refused ? 'its `session` line was refused' : 'a `session` line must come first');
  const ordered = state.positions.get(session)!;
  const at = (offset: unknown): number => {
    const match = typeof offset === 'string' ? /^\d{16}_(\d{16})$/.exec(offset) : null;
    return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
  };
  if (type === 'message') {
    const m = record.message;
    if (!isObject(m) || typeof m.id !== 'string' || typeof m.role !== 'string' || typeof m.text !== 'string') {
      fail('`message` needs `id`, `role` and `text`');
    }
    const common = { messageId: m.id, ...(str(m.turnId) ? { turnId: m.turnId } : {}) };
    const content = m.content !== undefined ? { content: m.content } : {};
    if (m.channel === 'in') {
      session.in.push({ type: 'user.message', ...common, text: m.text, ...content });
    } else if (m.status === 'incomplete') {
      ordered.push([at(m.offset), { type: 'message.started', ...common, role: m.role, ...(str(m.model) ? { model: m.model } : {}) }]);
      ordered.push([at(m.offset), { type: 'message.delta', messageId: m.id, text: m.text }]);
    } else {
      ordered.push([at(m.offset), {
        type: 'message', ...common, role: m.role, text: m.text, ...content,
        ...(str(m.model) ? { model: m.model } : {}), ...(isObject(m.usage) ? { usage: m.usage } : {}),
      }]);
    }
  } else if (type === 'toolCall') {
    const t = record.toolCall;
    if (!isObject(t) || typeof t.id !== 'string' || typeof t.name !== 'string') fail('`toolCall` needs `id` and `name`');
    const turn = str(t.turnId) ? { turnId: t.turnId } : {};
    ordered.push([at(t.offset), { type: 'tool.call', toolCallId: t.id, name: t.name, input: t.input ?? null, ...turn }]);
    if (t.completedAt !== null && t.completedAt !== undefined) {
      ordered.push([at(t.resultOffset), {
        type: 'tool.result', toolCallId: t.id, output: t.output ?? null, isError: t.isError === true, ...turn,
        ...(typeof t.durationMs === 'number' ? { durationMs: t.durationMs } : {}), ...(t.truncated === true ? { truncated: true } : {}),
      }]);
    }
  } else if (type === 'usage') {
    const u = record.usage;
    if (!isObject(u) || typeof u.inputTokens !== 'number' || typeof u.outputTokens !== 'number') {
      fail('`usage` needs `inputTokens` and `outputTokens`');
    }
    ordered.push([Number.MAX_SAFE_INTEGER, {
      type: 'usage', inputTokens: u.inputTokens, outputTokens: u.outputTokens,
      cachedInputTokens: typeof u.cachedInputTokens === 'number' ? u.cachedInputTokens : 0,
      ...(typeof u.costUsd === 'number' ? { costUsd: u.costUsd } : {}), ...(str(u.turnId) ? { turnId: u.turnId } : {}),
    }]);
  } else if (type === 'context') {
    const c = record.context;
    if (!isObject(c) || typeof c.summary !== 'string') fail('`context` needs a `summary`');
    ordered.push([Number.MAX_SAFE_INTEGER, { type: 'context.compacted', summary: c.summary, upToMessageId: str(c.upToMessageId) }]);
  } else {
    fail(`unknown record type \`${String(type)}\``);
  }
  session.records++;
}

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((b) => (isObject(b) && b.type === 'text' && typeof b.text === 'string' ? b.text : '')).filter(Boolean).join('\n');
  }
  return '';
}

/** Claude Code lines, grouped into a session per `sessionId` (and a child per side chain). */
function claudeLine(record: Record<string, unknown>, state: ParseState): void {
  const type = record.type as string;
  if (type === 'summary') {
    if (typeof record.summary !== 'string') fail('`summary` needs a `summary` string');
    // Summaries are written into the file of the conversation they name; they carry no sessionId.
    const target = state.sessions.find((s) => s.parentExternalId === null) ?? null;
    if (!target) {
      state.pendingSummaries.push([state.line, record]);
      return;
    }
    applySummary(target, record);
    return;
  }
  const sessionId = str(record.sessionId) ?? fail('`sessionId` is missing');
  const uuid = str(record.uuid) ?? fail('`uuid` is missing');
  const message = isObject(record.message) ? record.message : fail('`message` must be an object');
  const mainId = `claude-code:${sessionId}`;
  const sidechain = record.isSidechain === true;
  const key = sidechain ? `${mainId}:agent:${str(record.agentId) ?? 'sidechain'}` : mainId;
  if (key.length > EXTERNAL_ID_MAX) fail('`sessionId` is too long');
  let session = state.claude.get(key);
  if (!session) {
    session = blankSession(key, sidechain ? mainId : null);
    session.agent = 'claude-code';
    session.metadata = { source: 'claude-code', sessionId, ...(str(record.cwd) ? { cwd: record.cwd } : {}), ...(str(record.gitBranch) ? { gitBranch: record.gitBranch } : {}), ...(str(record.agentId) ? { agentId: record.agentId } : {}) };
    state.claude.set(key, session);
    state.sessions.push(session);
    if (!sidechain) for (const [, summary] of state.pendingSummaries.splice(0)) applySummary(session, summary);
  }
  const content = message.content;
  if (typeof content !== 'string' && !Array.isArray(content)) fail('`message.content` must be a string or an array of blocks');
  if (type === 'user') {
    const text = blockText(content);
    if (text !== '' || typeof content === 'string') {
      session.in.push({ type: 'user.message', messageId: uuid, text, ...(Array.isArray(content) ? { content } : {}) });
    }
    if (Array.isArray(content)) {
      for (const block of content) {
        if (!isObject(block) || block.type !== 'tool_result') continue;
        const toolCallId = str(block.tool_use_id) ?? fail('`tool_result` needs `tool_use_id`');
        const output = typeof block.content === 'string' ? block.content : blockText(block.content) || (block.content ?? null);
        session.out.push({ type: 'tool.result', toolCallId, output, isError: block.is_error === true });
      }
    }
  } else {
    const model = str(message.model);
    if (model && model !== '<synthetic>') session.model ??= model;
    const text = blockText(content);
    if (text !== '') {
      session.out.push({ type: 'message', messageId: uuid, role: str(message.role) ?? 'assistant', text, ...(model ? { model } : {}) });
    }
    if (Array.isArray(content)) {
      for (const block of content) {
        if (!isObject(block) || block.type !== 'tool_use') continue;
        const toolCallId = str(block.id) ?? fail('`tool_use` needs an `id`');
        const name = str(block.name) ?? fail('`tool_use` needs a `name`');
        session.out.push({ type: 'tool.call', toolCallId, name, input: block.input ?? null });
      }
    }
    // One API response is written as one line per content block, each repeating its usage.
    const usage = isObject(message.usage) ? message.usage : null;
    const responseId = str(message.id) ?? uuid;
    if (usage && !state.usageSeen.has(responseId)) {
      state.usageSeen.add(responseId);
      const n = (v: unknown) => (typeof v === 'number' && v >= 0 ? v : 0);
      session.out.push({
        type: 'usage',
        inputTokens: n(usage.input_tokens) + n(usage.cache_creation_input_tokens),
        outputTokens: n(usage.output_tokens),
        cachedInputTokens: n(usage.cache_read_input_tokens),
        ...(model ? { model } : {}),
      });
    }
  }
  session.records++;
}

function applySummary(session: ImportedSession, record: Record<string, unknown>): void {
  session.title ??= (record.summary as string).slice(0, 500);
  session.out.push({ type: 'context.compacted', summary: record.summary, upToMessageId: str(record.leafUuid) });
  session.records++;
}

export function parseImport(body: string): ParsedImport {
  const errors: ParsedImport['errors'] = [];
  const state: ParseState = {
    current: null,
    sessions: [],
    positions: new Map(),
    claude: new Map(),
    usageSeen: new Set(),
    pendingSummaries: [],
    line: 0,
    refused: false,
  };
  body.split('\n').forEach((raw, index) => {
    state.line = index + 1;
    const line = raw.trim();
    if (line === '') return;
    try {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        fail('not valid JSON');
      }
      if (!isObject(record)) fail('a line must be a JSON object');
      const type = record.type;
      if (type === 'user' || type === 'assistant' || type === 'summary') claudeLine(record, state);
      else if (typeof type === 'string' && IGNORED_CLAUDE_TYPES.has(type)) return;
      else tetherLine(record, state);
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      errors.push({ line: index + 1, message: error.message });
    }
  });
  for (const [session, ordered] of state.positions) {
    // Events go back on `out` in the order they were first written.
    session.out.push(...ordered.map((entry, n) => [entry[0], n, entry[1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((e) => e[2]));
  }
  // Summaries in a file without any conversation line have no session to go to.
  for (const [line] of state.pendingSummaries) errors.push({ line, message: 'a `summary` with no conversation in the file' });
  errors.sort((a, b) => a.line - b.line);
  return { sessions: state.sessions.filter((s) => s.records > 0 || s.out.length || s.in.length), errors };
}

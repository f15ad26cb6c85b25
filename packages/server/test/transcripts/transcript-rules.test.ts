/** The pure decision modules behind transcripts, search and import. */
import { describe, expect, it } from 'vitest';
import { MAX_TOOL_OUTPUT_BYTES } from '@tether/protocol';
import { fts5Query, parseSearchQuery, snippet, tsQuery } from '../../src/storage/search-query.js';
import { TRUNCATION_MARKER, projectEvents, truncateOutput } from '../../src/storage/transcript-rules.js';
import { parseImport } from '../../src/services/import-formats.js';

describe('tool output truncation', () => {
  it('cuts on a character boundary, within the limit, with the marker', () => {
    for (const unit of ['a', 'é', '€', '😀']) {
      for (const pad of ['', 'x', 'xy', 'xyz']) {
        const { output, truncated } = truncateOutput(pad + unit.repeat(MAX_TOOL_OUTPUT_BYTES + 1));
        expect(truncated).toBe(true);
        const text = output as string;
        expect(text.endsWith(TRUNCATION_MARKER)).toBe(true);
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_BYTES);
        const kept = text.slice(0, -TRUNCATION_MARKER.length);
        expect(kept).not.toContain('\uFFFD');
        expect((pad + unit.repeat(MAX_TOOL_OUTPUT_BYTES + 1)).startsWith(kept)).toBe(true);
        expect(Buffer.byteLength(kept)).toBeGreaterThan(MAX_TOOL_OUTPUT_BYTES - TRUNCATION_MARKER.length * 3 - 4);
      }
    }
  });

  it('keeps outputs within the limit as they are, JSON included', () => {
    expect(truncateOutput({ a: [1, 2] })).toEqual({ output: { a: [1, 2] }, truncated: false });
    expect(truncateOutput('x'.repeat(MAX_TOOL_OUTPUT_BYTES))).toEqual({ output: 'x'.repeat(MAX_TOOL_OUTPUT_BYTES), truncated: false });
    const big = truncateOutput({ data: 'y'.repeat(MAX_TOOL_OUTPUT_BYTES) });
    expect(big.truncated).toBe(true);
    expect(big.output).toMatch(/^\{"data":"y+\n…\[truncated\]$/);
  });
});

describe('projection', () => {
  const base = { projectId: 'p', sessionId: 's', channel: 'out' as const, startPosition: 10, activeTurnId: 't1', messages: new Map(), toolCalls: new Map(), now: 1000 };

  it('folds deltas, names id-less messages by position, and gives earlier rows to the turn that ends', () => {
    const plan = projectEvents({
      ...base,
      events: [
        { type: 'message.started', messageId: 'a', role: 'assistant' },
        { type: 'message.delta', messageId: 'a', text: 'x' },
        { type: 'message.delta', messageId: 'a', text: 'y' },
        { type: 'message', role: 'assistant', text: 'whole' },
        { type: 'turn.completed', turnId: 't1' },
        { type: 'message', role: 'assistant', text: 'after' },
      ],
    });
    expect(plan.messages.map((m) => [m.record.id, m.record.text, m.record.status, m.record.turnId, m.record.position])).toEqual([
      ['a', 'xy', 'incomplete', 't1', 10],
      ['out-13', 'whole', 'completed', 't1', 13],
      ['out-15', 'after', 'completed', null, 15],
    ]);
    expect(plan.turnEnds).toEqual([{ turnId: 't1', position: 14 }]);
    expect(plan.counters).toMatchObject({ messages: 3, lastAssistantText: 'after' });
  });
});

describe('search queries', () => {
  it('keeps words, phrases and prefixes and drops every operator', () => {
    const terms = parseSearchQuery('Hello "Quick  Brown" fox* AND (x OR -y) NEAR/3 "unclosed ü');
    expect(terms).toEqual([
      { kind: 'word', text: 'hello', prefix: false },
      { kind: 'phrase', words: ['quick', 'brown'] },
      { kind: 'word', text: 'fox', prefix: true },
      { kind: 'word', text: 'and', prefix: false },
      { kind: 'word', text: 'x', prefix: false },
      { kind: 'word', text: 'or', prefix: false },
      { kind: 'word', text: 'y', prefix: false },
      { kind: 'word', text: 'near', prefix: false },
      { kind: 'word', text: '3', prefix: false },
      { kind: 'phrase', words: ['unclosed', 'ü'] },
    ]);
    expect(fts5Query(terms.slice(0, 3))).toBe('"hello" AND "quick brown" AND "fox"*');
    expect(tsQuery(terms.slice(0, 3))).toBe(`'hello' & ('quick' <-> 'brown') & 'fox':*`);
    expect(parseSearchQuery(`"" ' * () : ^ -- ;`)).toEqual([]);
  });

  it('escapes snippets and marks whole matching words only', () => {
    const terms = parseSearchQuery('cat dog*');
    expect(snippet('<i>Cat</i> & dogs, concatenate', terms)).toBe('&lt;i&gt;<mark>Cat</mark>&lt;/i&gt; &amp; <mark>dogs</mark>, concatenate');
    const long = `${'word '.repeat(100)}cat${' tail'.repeat(100)}`;
    const cut = snippet(long, terms);
    expect(cut.startsWith('…')).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).toContain('<mark>cat</mark>');
  });
});

describe('import parsing', () => {
  it('numbers bad lines from 1 and skips blank and ignorable ones', () => {
    const parsed = parseImport(['', '{"type":"file-history-snapshot"}', 'nope', '{"type":"user","sessionId":"s","uuid":"u","message":{"content":"hi"}}', '{"type":"message"}'].join('\n'));
    expect(parsed.errors).toEqual([
      { line: 3, message: 'not valid JSON' },
      { line: 5, message: 'a `session` line must come first' },
    ]);
    expect(parsed.sessions).toHaveLength(1);
    expect(parsed.sessions[0]!.in).toEqual([{ type: 'user.message', messageId: 'u', text: 'hi' }]);
  });

  it('refuses session lines the session routes would refuse', () => {
    const session = (fields: Record<string, unknown>) => JSON.stringify({ type: 'session', session: { id: 'ses_01ARZ3NDEKTSV4RRFFQ69G5FAV', ...fields } });
    const parsed = parseImport([
      session({ tags: ['a b'] }),
      session({ tags: Array.from({ length: 21 }, (_, n) => `t${n}`) }),
      session({ metadata: { big: 'x'.repeat(40_000) } }),
      JSON.stringify({ type: 'message', message: { id: 'm', role: 'user', text: 'orphan' } }),
      session({ tags: ['ok'], metadata: { fine: true } }),
    ].join('\n'));
    expect(parsed.errors.map((e) => [e.line, e.message.startsWith('its `session` line')])).toEqual([[1, false], [2, false], [3, false], [4, true]]);
    expect(parsed.sessions.map((s) => s.tags)).toEqual([['ok']]);
  });
});

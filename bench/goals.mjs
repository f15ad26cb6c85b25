/**
 * What tether must reach, checked after every run. A goal names the target
 * it judges (`subject`), a figure key from figures.mjs, and one of:
 *   atLeast / below: an absolute bound;
 *   timesBetter + versus: at least that many times better than another target.
 */
export const GOALS = [
  { subject: 'tether-sqlite', figure: 'a1', atLeast: 10_000, text: '(a1) ≥ 10,000 durable appends/s, 1 stream' },
  { subject: 'tether-sqlite', figure: 'a2', atLeast: 10_000, text: '(a2) ≥ 10,000 durable appends/s, {N} streams' },
  { subject: 'tether-sqlite', figure: 'a1', timesBetter: 10, versus: 'reference-file', text: '(a1) ≥ 10× reference file-backed' },
  { subject: 'tether-sqlite', figure: 'a2', timesBetter: 10, versus: 'reference-file', text: '(a2) ≥ 10× reference file-backed' },
  { subject: 'tether-sqlite', figure: 'a1', timesBetter: 1, versus: 'reference-memory', text: '(a1) no slower than reference in-memory' },
  { subject: 'tether-sqlite', figure: 'a2', timesBetter: 1, versus: 'reference-memory', text: '(a2) no slower than reference in-memory' },
  { subject: 'tether-sqlite', figure: 'b.sse.p50', below: 1, text: '(b) append→SSE p50 < 1 ms' },
  { subject: 'tether-sqlite', figure: 'b.sse.p99', below: 5, text: '(b) append→SSE p99 < 5 ms' },
  { subject: 'tether-postgres', figure: 'a1', atLeast: 4_000, text: 'postgres (a1) ≥ 4,000 durable appends/s, 1 stream' },
  { subject: 'tether-postgres', figure: 'a2', atLeast: 4_000, text: 'postgres (a2) ≥ 4,000 durable appends/s, {N} streams' },
  { subject: 'tether-postgres', figure: 'b.cross.p50', below: 5, text: 'postgres replica A → SSE on B p50 < 5 ms' },
  { subject: 'tether-postgres', figure: 'b.cross.p99', below: 25, text: 'postgres replica A → SSE on B p99 < 25 ms' },
];

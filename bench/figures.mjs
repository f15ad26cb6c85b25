/**
 * The rows of the results table: where each figure lives in a target's
 * results and which direction is better. Goals refer to figures by key.
 * The last row is not a result but its context: the mean share of the CPUs
 * that other processes used while this target was measured.
 */
export const FIGURES = [
  { key: 'a1', label: '(a1) append, 1 stream, c={N}', unit: 'appends/s', better: 'higher', value: (r) => r.appendOneStream?.appendsPerSec },
  { key: 'a1.ack.p99', label: '     ack latency p99 under load', unit: 'ms', better: 'lower', value: (r) => r.appendOneStream?.latencyMs.p99 },
  { key: 'a1.cpu', label: '     server CPU per append', unit: 'µs', better: 'lower', value: (r) => r.appendOneStream?.serverCpuUsPerAppend },
  { key: 'a2', label: '(a2) append, {N} streams, c={N}', unit: 'appends/s', better: 'higher', value: (r) => r.appendManyStreams?.appendsPerSec },
  { key: 'a2.ack.p99', label: '     ack latency p99 under load', unit: 'ms', better: 'lower', value: (r) => r.appendManyStreams?.latencyMs.p99 },
  { key: 'a2.cpu', label: '     server CPU per append', unit: 'µs', better: 'lower', value: (r) => r.appendManyStreams?.serverCpuUsPerAppend },
  { key: 'b.longPoll.p50', label: '(b) append→long-poll p50', unit: 'ms', better: 'lower', value: (r) => r.longPoll?.deliveryMs.p50 },
  { key: 'b.longPoll.p99', label: '    append→long-poll p99', unit: 'ms', better: 'lower', value: (r) => r.longPoll?.deliveryMs.p99 },
  { key: 'b.sse.p50', label: '(b) append→SSE p50', unit: 'ms', better: 'lower', value: (r) => r.sse?.deliveryMs.p50 },
  { key: 'b.sse.p99', label: '    append→SSE p99', unit: 'ms', better: 'lower', value: (r) => r.sse?.deliveryMs.p99 },
  { key: 'b.cross.p50', label: '(b) replica A → SSE on B p50', unit: 'ms', better: 'lower', value: (r) => r.sseCrossReplica?.deliveryMs.p50 },
  { key: 'b.cross.p99', label: '    replica A → SSE on B p99', unit: 'ms', better: 'lower', value: (r) => r.sseCrossReplica?.deliveryMs.p99 },
  { key: 'b.ack.p50', label: '    single append ack p50', unit: 'ms', better: 'lower', value: (r) => r.sse?.appendAckMs.p50 },
  { key: 'c.messages', label: '(c) catch-up read', unit: 'msgs/s', better: 'higher', value: (r) => r.catchUp?.messagesPerSec },
  { key: 'c.bytes', label: '    catch-up read', unit: 'MB/s', better: 'higher', value: (r) => r.catchUp?.megabytesPerSec },
  {
    key: 'otherCpu',
    label: 'CPU used by other processes',
    unit: '%',
    better: null,
    value: (r) => {
      const shares = Object.values(r).flatMap((f) => f?.otherCpuByRound ?? (f?.otherCpu === undefined ? [] : [f.otherCpu]));
      return shares.length ? (100 * shares.reduce((a, b) => a + b, 0)) / shares.length : undefined;
    },
  },
];

export function figureValue(key, figures) {
  const figure = FIGURES.find((f) => f.key === key);
  if (!figure) throw new Error(`unknown figure ${key}`);
  const value = figures ? figure.value(figures) : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** How many times better `value` is than `baseline`, whichever direction "better" points. */
export function timesBetter(key, value, baseline) {
  const figure = FIGURES.find((f) => f.key === key);
  if (!figure.better || value === null || baseline === null || value === 0 || baseline === 0) return null;
  return figure.better === 'higher' ? value / baseline : baseline / value;
}

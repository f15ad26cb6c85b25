/**
 * What is measured, in run order. `run` does one measurement against a
 * target's base URL and returns raw results; `combine` turns the runs of all
 * rounds into the target's figures. `once` scenarios run in the first round
 * only (filling a 100,000-message stream once per target is enough).
 */
import { appendThroughput, combineAppendRuns } from './scenarios/append-throughput.mjs';
import { catchUpRead } from './scenarios/catch-up-read.mjs';
import { combineLatencyRuns, deliveryLatency } from './scenarios/delivery-latency.mjs';
import { summarize } from './lib/stats.mjs';

const rate = (n) => Math.round(n).toLocaleString('en-US');
const cpuSummary = (r) =>
  r.serverCpuMs === null || !r.appends
    ? ''
    : `; CPU per append: server ${Math.round((r.serverCpuMs * 1000) / r.appends)} µs, load generator ${Math.round((r.loadCpuMs * 1000) / r.appends)} µs`;
const appendSummary = (r) => {
  const latency = summarize(r.latencies);
  return `${rate(r.appends / r.elapsedSeconds)} appends/s  (ack p50 ${latency.p50} ms, p99 ${latency.p99} ms${r.errors ? `, ${r.errors} errors` : ''}${cpuSummary(r)})`;
};
const serverPids = (server) => server.pids ?? [server.pid];
const latencySummary = (r) => {
  const delivery = summarize(r.samples);
  return `p50 ${delivery.p50} ms, p99 ${delivery.p99} ms  (n=${delivery.count}; append ack p50 ${summarize(r.acks).p50} ms)`;
};

export const SCENARIOS = [
  {
    key: 'appendOneStream',
    title: (config) => `(a1) append, 1 stream, concurrency ${config.concurrency}`,
    run: (url, config, server) => appendThroughput(url, config, { streams: 1, serverPids: serverPids(server) }),
    summary: appendSummary,
    combine: combineAppendRuns,
  },
  {
    key: 'appendManyStreams',
    title: (config) => `(a2) append, ${config.concurrency} streams, concurrency ${config.concurrency}`,
    run: (url, config, server) => appendThroughput(url, config, { streams: config.concurrency, serverPids: serverPids(server) }),
    summary: appendSummary,
    combine: combineAppendRuns,
  },
  {
    key: 'longPoll',
    title: (config) => `(b) append→long-poll delivery, one append every ${config.latencyIntervalMs} ms`,
    run: (url, config) => deliveryLatency(url, config, { mode: 'long-poll' }),
    summary: latencySummary,
    combine: combineLatencyRuns,
  },
  {
    key: 'sse',
    title: (config) => `(b) append→SSE delivery, one append every ${config.latencyIntervalMs} ms`,
    run: (url, config) => deliveryLatency(url, config, { mode: 'sse' }),
    summary: latencySummary,
    combine: combineLatencyRuns,
  },
  {
    key: 'sseCrossReplica',
    title: (config) => `(b) append on replica A → SSE reader on replica B, one append every ${config.latencyIntervalMs} ms`,
    // Only targets that run two replicas (PostgreSQL) take part.
    applies: (server) => Boolean(server.secondUrl),
    run: (url, config, server) => deliveryLatency(url, config, { mode: 'sse', readerUrl: server.secondUrl }),
    summary: latencySummary,
    combine: combineLatencyRuns,
  },
  {
    key: 'catchUp',
    title: (config) => `(c) catch-up read of ${config.catchUpMessages.toLocaleString('en-US')} messages from offset -1`,
    once: true,
    run: (url, config) => catchUpRead(url, config),
    summary: (r) =>
      `${rate(r.messagesPerSec)} msgs/s, ${r.megabytesPerSec} MB/s  (${r.requests} requests; median of ${r.roundsSeconds.length} reads)`,
    combine: (runs) => runs[0],
  },
];

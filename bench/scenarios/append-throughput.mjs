/**
 * Figure (a): single-message appends, `concurrency` writers each with one
 * request in flight on its own keep-alive connection, for a fixed time.
 * Either every writer appends to one stream (a1) or writer i appends to
 * stream i mod `streams` (a2). Streams are created beforehand on a separate
 * node:http connection.
 */
import { performance } from 'node:perf_hooks';
import { HttpClient } from '../lib/http-client.mjs';
import { cpuMeter } from '../lib/machine.mjs';
import { WireConnection } from '../lib/wire-client.mjs';
import { makeMessage } from '../lib/messages.mjs';
import { summarize } from '../lib/stats.mjs';
import { JSON_HEADERS, createJsonStream, freshStreamPath } from '../lib/streams.mjs';

const BODY_POOL = 4096;
const MAX_ERRORS = 100;

async function runPhase(connections, requests, concurrency, seconds, record) {
  const stats = { appends: 0, errors: 0, firstError: null, latencies: [] };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let next = 0;
  const worker = async (w) => {
    const connection = connections[w];
    const mine = requests[w % requests.length];
    while (performance.now() < deadline && stats.errors < MAX_ERRORS) {
      const bytes = mine[next++ % mine.length];
      const sentAt = performance.now();
      try {
        const res = await connection.send(bytes);
        if (res.status === 204 || res.status === 200) {
          stats.appends += 1;
          if (record) stats.latencies.push(res.receivedAt - sentAt);
        } else {
          stats.errors += 1;
          stats.firstError ??= `HTTP ${res.status} ${res.body.toString('utf8').slice(0, 200)}`;
        }
      } catch (error) {
        stats.errors += 1;
        stats.firstError ??= error.message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  stats.elapsedSeconds = (performance.now() - start) / 1000;
  return stats;
}

/**
 * One measured phase; `combineAppendRuns` turns the phases of all rounds into
 * a figure. `serverPids`: the target's processes, whose CPU time during the
 * measured phase is reported with the load generator's own.
 */
export async function appendThroughput(baseUrl, config, { streams, serverPids = [] }) {
  const paths = [];
  const setup = new HttpClient(baseUrl, { maxSockets: 1 });
  try {
    for (let i = 0; i < streams; i++) {
      const path = freshStreamPath(`append${streams}`);
      await createJsonStream(setup, path);
      paths.push(path);
    }
  } finally {
    setup.close();
  }
  const connections = await Promise.all(Array.from({ length: config.concurrency }, () => WireConnection.open(baseUrl)));
  try {
    const bodies = Array.from({ length: BODY_POOL }, (_, i) => Buffer.from(makeMessage(i, config.messageBytes)));
    // Each stream's requests, prepared once: the same bodies, in the same order, for every stream.
    const perStream = Math.max(1, Math.floor(BODY_POOL / streams));
    const requests = paths.map((path, s) =>
      Array.from({ length: perStream }, (_, i) => connections[0].prepare('POST', path, JSON_HEADERS, bodies[(s * perStream + i) % bodies.length])),
    );
    if (config.warmupSeconds > 0) await runPhase(connections, requests, config.concurrency, config.warmupSeconds, false);
    const cpu = cpuMeter(serverPids);
    const stats = await runPhase(connections, requests, config.concurrency, config.seconds, true);
    const { pidsMs: serverCpuMs, selfMs: loadCpuMs } = cpu();
    if (stats.errors >= MAX_ERRORS) throw new Error(`too many failed appends; first: ${stats.firstError}`);
    return { streams, concurrency: config.concurrency, messageBytes: bodies[0].length, ...stats, serverCpuMs, loadCpuMs };
  } finally {
    for (const connection of connections) connection.close();
  }
}

/** CPU microseconds per append over all runs; null when a run could not tell. */
function cpuPerAppend(runs, field, appends) {
  if (appends === 0 || runs.some((r) => typeof r[field] !== 'number')) return null;
  return Number(((runs.reduce((n, r) => n + r[field], 0) * 1000) / appends).toFixed(1));
}

export function combineAppendRuns(runs) {
  const appends = runs.reduce((n, r) => n + r.appends, 0);
  const seconds = runs.reduce((n, r) => n + r.elapsedSeconds, 0);
  return {
    streams: runs[0].streams,
    concurrency: runs[0].concurrency,
    messageBytes: runs[0].messageBytes,
    appends,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError ?? null,
    seconds: Number(seconds.toFixed(3)),
    appendsPerSec: Math.round(appends / seconds),
    roundsAppendsPerSec: runs.map((r) => Math.round(r.appends / r.elapsedSeconds)),
    latencyMs: summarize(runs.flatMap((r) => r.latencies)),
    /** CPU time the server's processes (all their threads) and the load generator spent per acknowledged append. */
    serverCpuUsPerAppend: cpuPerAppend(runs, 'serverCpuMs', appends),
    loadCpuUsPerAppend: cpuPerAppend(runs, 'loadCpuMs', appends),
    /** Share of the CPUs other processes used during each round (see run.mjs). */
    otherCpuByRound: runs.map((r) => r.otherCpu ?? null),
  };
}

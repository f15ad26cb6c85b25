/**
 * Figure (a): single-message appends, `concurrency` writers each with one
 * request in flight, for a fixed time. Either every writer appends to one
 * stream (a1) or writer i appends to stream i mod `streams` (a2).
 */
import { performance } from 'node:perf_hooks';
import { HttpClient } from '../lib/http-client.mjs';
import { makeMessage } from '../lib/messages.mjs';
import { summarize } from '../lib/stats.mjs';
import { JSON_HEADERS, createJsonStream, freshStreamPath } from '../lib/streams.mjs';

const BODY_POOL = 4096;
const MAX_ERRORS = 100;

async function runPhase(client, paths, bodies, concurrency, seconds, record) {
  const stats = { appends: 0, errors: 0, firstError: null, latencies: [] };
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let next = 0;
  const worker = async (w) => {
    const path = paths[w % paths.length];
    while (performance.now() < deadline && stats.errors < MAX_ERRORS) {
      const body = bodies[next++ % bodies.length];
      const sentAt = performance.now();
      try {
        const res = await client.request('POST', path, { headers: JSON_HEADERS, body });
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

/** One measured phase; `combineAppendRuns` turns the phases of all rounds into a figure. */
export async function appendThroughput(baseUrl, config, { streams }) {
  const client = new HttpClient(baseUrl, { maxSockets: config.concurrency });
  try {
    const paths = [];
    for (let i = 0; i < streams; i++) {
      const path = freshStreamPath(`append${streams}`);
      await createJsonStream(client, path);
      paths.push(path);
    }
    const bodies = Array.from({ length: BODY_POOL }, (_, i) => Buffer.from(makeMessage(i, config.messageBytes)));
    if (config.warmupSeconds > 0) await runPhase(client, paths, bodies, config.concurrency, config.warmupSeconds, false);
    const stats = await runPhase(client, paths, bodies, config.concurrency, config.seconds, true);
    if (stats.errors >= MAX_ERRORS) throw new Error(`too many failed appends; first: ${stats.firstError}`);
    return { streams, concurrency: config.concurrency, messageBytes: bodies[0].length, ...stats };
  } finally {
    client.close();
  }
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
    /** Share of the CPUs other processes used during each round (see run.mjs). */
    otherCpuByRound: runs.map((r) => r.otherCpu ?? null),
  };
}

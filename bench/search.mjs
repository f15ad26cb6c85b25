#!/usr/bin/env node
/**
 * Search and projection benchmarks.
 *
 * (1) Search: seeds BENCH_SEARCH_MESSAGES messages (default 1,000,000) across
 *     BENCH_SEARCH_SESSIONS sessions (default 20,000) straight into the
 *     transcript tables (the server creates the schema first, and its own
 *     triggers and generated columns index the rows), then measures
 *     `GET /v1/search` over a mix of single words, two-word queries, phrases,
 *     prefixes and filtered queries. Target: p99 < 50 ms.
 * (2) Projection (SQLite): concurrent batched appends of runner events
 *     (message deltas, tool calls, usage) to session channels, each projected
 *     into transcript rows in its append's transaction. Target: ≥ 50,000
 *     events/s.
 *
 * Runs against SQLite, and PostgreSQL when BENCH_POSTGRES_URL names a scratch
 * database (for example tether_bench_search; it is filled, not dropped). With
 * BENCH_SEARCH_REUSE=1 a PostgreSQL database that already holds exactly the
 * seeded sessions and messages is measured as it is, without seeding again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './lib/server-process.mjs';
import { summarize } from './lib/stats.mjs';
import { isSeededPostgres, queryMix, seedSearchPostgres, seedSearchSqlite } from './search/seed.mjs';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const MESSAGES = Number(process.env.BENCH_SEARCH_MESSAGES ?? 1_000_000);
const SESSIONS = Number(process.env.BENCH_SEARCH_SESSIONS ?? 20_000);
const QUERIES = Number(process.env.BENCH_SEARCH_QUERIES ?? 1_000);
const PROJECTION_SECONDS = Number(process.env.BENCH_PROJECTION_SECONDS ?? 10);
const log = (line = '') => process.stdout.write(`${line}\n`);
const REUSE = process.env.BENCH_SEARCH_REUSE === '1';
const serve = (args) => startServerProcess({ args: [CLI, 'serve', '--port', '0', '--log-level', 'warn', '--insecure-no-auth', ...args] });

async function measureSearch(url) {
  const queries = queryMix(QUERIES);
  for (const { query } of queries.slice(0, 100)) await fetch(`${url}/v1/search?${query}`).then((r) => r.arrayBuffer()); // warm up
  const times = [];
  const byKind = {};
  let hits = 0;
  for (const { query, kind } of queries) {
    const started = performance.now();
    const res = await fetch(`${url}/v1/search?${query}`);
    const body = await res.json();
    const ms = performance.now() - started;
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(body)}`);
    hits += body.data.length;
    times.push(ms);
    (byKind[kind] ??= []).push(ms);
  }
  return { all: summarize(times), hitsPerQuery: hits / queries.length, byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, summarize(v)])) };
}

async function runSearch(name, args, seed, seeded = async () => false) {
  const first = await serve(args);
  await first.stop();
  if (REUSE && (await seeded())) {
    log(`\n== ${name}: reusing ${MESSAGES.toLocaleString()} seeded messages`);
  } else {
    log(`\n== ${name}: seeding ${MESSAGES.toLocaleString()} messages across ${SESSIONS.toLocaleString()} sessions`);
    const started = performance.now();
    await seed();
    log(`   seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const server = await serve(args);
  try {
    const result = await measureSearch(server.url);
    for (const [kind, s] of Object.entries(result.byKind)) {
      log(`   ${kind.padEnd(10)} n=${String(s.count).padStart(4)}  p50=${s.p50.toFixed(2)} ms  p99=${s.p99.toFixed(2)} ms`);
    }
    const s = result.all;
    log(`   search, all: p50=${s.p50.toFixed(2)} ms  p90=${s.p90.toFixed(2)} ms  p99=${s.p99.toFixed(2)} ms  ${s.p99 < 50 ? 'PASS' : 'FAIL'} (p99 < 50 ms), ${result.hitsPerQuery.toFixed(1)} hits/query`);
    return { target: name, messages: MESSAGES, sessions: SESSIONS, search: result };
  } finally {
    await server.stop();
  }
}

/** One runner's batch: a streamed answer, a tool call with its result, and usage. */
function runnerBatch(n, size) {
  const events = [{ type: 'message.started', messageId: `m${n}`, role: 'assistant', model: 'claude-sonnet-4-5' }];
  events.push({ type: 'tool.call', toolCallId: `t${n}`, name: 'read_file', input: { path: `src/${n}.ts` } });
  events.push({ type: 'tool.result', toolCallId: `t${n}`, output: 'export const x = 1;\n'.repeat(10), durationMs: 3 });
  while (events.length < size - 2) events.push({ type: 'message.delta', messageId: `m${n}`, text: `token ${events.length} ` });
  events.push({ type: 'message.completed', messageId: `m${n}` });
  events.push({ type: 'usage', inputTokens: 1200, outputTokens: 300, cachedInputTokens: 800 });
  return JSON.stringify(events);
}

async function runProjection(dataDir) {
  const server = await serve(['--data-dir', dataDir]);
  const WRITERS = 32;
  const BATCH = 100;
  try {
    const sessions = [];
    for (let i = 0; i < WRITERS; i++) {
      const res = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      sessions.push((await res.json()).session.id);
    }
    let events = 0;
    let batches = 0;
    const deadline = performance.now() + PROJECTION_SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      sessions.map(async (id) => {
        while (performance.now() < deadline) {
          const res = await fetch(`${server.url}/v1/stream/sessions/${id}/out`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: runnerBatch(batches++, BATCH),
          });
          await res.arrayBuffer();
          if (res.status !== 204) throw new Error(`append: ${res.status}`);
          events += BATCH;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const check = await (await fetch(`${server.url}/v1/sessions/${sessions[0]}`)).json();
    const rate = events / seconds;
    log(`\n== projection (sqlite, fsync): ${events.toLocaleString()} events in ${seconds.toFixed(1)} s from ${WRITERS} writers, ${BATCH} per append`);
    log(`   ${Math.round(rate).toLocaleString()} events/s  ${rate >= 50_000 ? 'PASS' : 'FAIL'} (≥ 50,000 events/s); session 1 has ${check.messageCount} messages`);
    return { target: 'projection (sqlite)', events, seconds, eventsPerSecond: Math.round(rate) };
  } finally {
    await server.stop();
  }
}

const results = [];
const only = process.env.BENCH_SEARCH_TARGETS?.split(',');
const dataDir = await mkdtemp(join(os.tmpdir(), 'tether-bench-search-'));
try {
  if (!only || only.includes('projection')) {
    const projectionDir = await mkdtemp(join(os.tmpdir(), 'tether-bench-projection-'));
    try {
      results.push(await runProjection(projectionDir));
    } finally {
      await rm(projectionDir, { recursive: true, force: true });
    }
  }
  if (!only || only.includes('sqlite')) {
    results.push(await runSearch('search (sqlite)', ['--data-dir', dataDir], () => seedSearchSqlite(dataDir, MESSAGES, SESSIONS)));
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
if (process.env.BENCH_POSTGRES_URL && (!only || only.includes('postgres'))) {
  const url = process.env.BENCH_POSTGRES_URL;
  results.push(
    await runSearch('search (postgres)', ['--postgres', url], () => seedSearchPostgres(url, MESSAGES, SESSIONS), () => isSeededPostgres(url, MESSAGES, SESSIONS)),
  );
} else {
  log('\n(PostgreSQL skipped: set BENCH_POSTGRES_URL to a scratch database to include it)');
}
log(`\n${JSON.stringify(results)}`);

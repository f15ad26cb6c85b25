#!/usr/bin/env node
/**
 * Session benchmarks: (1) listing with filters, paged 100 pages deep by
 * cursor, over a large seeded store; (2) how fast a status change reaches a
 * watcher of the monitor. Runs against SQLite, and PostgreSQL when
 * BENCH_POSTGRES_URL is set. Targets: list p99 < 20 ms per page, watch p99 < 50 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './lib/server-process.mjs';
import { summarize } from './lib/stats.mjs';
import { seedPostgres, seedSqlite } from './sessions/seed.mjs';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const COUNT = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
const PAGES = Number(process.env.BENCH_PAGES ?? 100);
const WATCH_SAMPLES = Number(process.env.BENCH_WATCH_SAMPLES ?? 300);
const QUERIES = ['status=idle&tag=vip', 'status=running&tag=beta', 'tag=eu&tag=web', 'status=closed&agent=agent-3', 'status=waiting'];
const log = (line = '') => process.stdout.write(`${line}\n`);

const serve = (args) => startServerProcess({ args: [CLI, 'serve', '--port', '0', '--log-level', 'warn', '--insecure-no-auth', ...args] });

async function pageThrough(url, query) {
  const times = [];
  let cursor = null;
  for (let page = 0; page < PAGES; page++) {
    const started = performance.now();
    const res = await fetch(`${url}/v1/sessions?${query}&limit=50${cursor ? `&cursor=${cursor}` : ''}`);
    const body = await res.json();
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(body)}`);
    cursor = body.nextCursor;
    if (!cursor) break;
  }
  return times;
}

async function watchLatency(url) {
  const agent = `watch-bench-${Date.now()}`;
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/sessions/watch?agent=${agent}`, { signal: controller.signal });
  const waiting = new Map();
  let ready;
  const isReady = new Promise((resolve) => (ready = resolve));
  void (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith('event: ready')) ready();
          if (!frame.startsWith('event: session\n')) continue;
          const data = JSON.parse(frame.split('\n').find((l) => l.startsWith('data:')).slice(5));
          if (data.status === 'closed') waiting.get(data.id)?.();
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  await isReady;
  const samples = [];
  for (let i = 0; i < WATCH_SAMPLES; i++) {
    const created = await (await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agent }),
    })).json();
    const id = created.session.id;
    const seen = new Promise((resolve) => waiting.set(id, resolve));
    const started = performance.now();
    await fetch(`${url}/v1/sessions/${id}/close`, { method: 'POST' });
    await seen;
    samples.push(performance.now() - started);
  }
  controller.abort();
  return summarize(samples);
}

async function runTarget(name, args, seed) {
  log(`\n== ${name}: seeding ${COUNT.toLocaleString()} sessions`);
  const first = await serve(args);
  await first.stop();
  const seeded = performance.now();
  await seed();
  log(`   seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
  const server = await serve(args);
  const result = { target: name, sessions: COUNT, queries: {}, watch: null };
  try {
    for (const query of QUERIES) await pageThrough(server.url, query); // warm caches
    const all = [];
    for (const query of QUERIES) {
      const times = [...(await pageThrough(server.url, query)), ...(await pageThrough(server.url, query))];
      all.push(...times);
      result.queries[query] = summarize(times);
      const s = result.queries[query];
      log(`   list ${query.padEnd(30)} pages=${String(s.count).padStart(4)}  p50=${s.p50.toFixed(2)} ms  p99=${s.p99.toFixed(2)} ms`);
    }
    result.list = summarize(all);
    result.watch = await watchLatency(server.url);
    log(`   list, all pages: p50=${result.list.p50.toFixed(2)} ms  p99=${result.list.p99.toFixed(2)} ms  ${result.list.p99 < 20 ? 'PASS' : 'FAIL'} (p99 < 20 ms)`);
    log(`   watch: status change → monitor event p50=${result.watch.p50.toFixed(2)} ms  p99=${result.watch.p99.toFixed(2)} ms  ${result.watch.p99 < 50 ? 'PASS' : 'FAIL'} (p99 < 50 ms)`);
  } finally {
    await server.stop();
  }
  return result;
}

const results = [];
// BENCH_SESSION_TARGETS=postgres runs only the PostgreSQL half (seeding takes a while).
const only = process.env.BENCH_SESSION_TARGETS?.split(',');
const dataDir = await mkdtemp(join(os.tmpdir(), 'tether-bench-sessions-'));
try {
  if (!only || only.includes('sqlite')) {
    results.push(await runTarget('tether (sqlite)', ['--data-dir', dataDir], () => seedSqlite(dataDir, COUNT)));
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
if (process.env.BENCH_POSTGRES_URL && (!only || only.includes('postgres'))) {
  const url = process.env.BENCH_POSTGRES_URL;
  results.push(await runTarget('tether (postgres)', ['--postgres', url], () => seedPostgres(url, COUNT)));
} else {
  log('\n(PostgreSQL skipped: set BENCH_POSTGRES_URL to a scratch database to include it)');
}
log(`\n${JSON.stringify(results)}`);

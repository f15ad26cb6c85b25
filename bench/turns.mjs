#!/usr/bin/env node
/**
 * Turn benchmarks. (1) Latency from a message being sent, through a waiting
 * runner's claim and its first `out` append, to that event reaching a live
 * SSE reader of `out` — 50 sessions at once, each with its own runner and
 * reader. Targets on SQLite: p50 < 10 ms, p99 < 50 ms. (2) Claims per second
 * with 8 runners draining a pre-filled queue (claim, then complete).
 * Runs against SQLite, and PostgreSQL when BENCH_POSTGRES_URL is set.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { HttpClient } from './lib/http-client.mjs';
import { startServerProcess } from './lib/server-process.mjs';
import { SseParser } from './lib/sse-parser.mjs';
import { summarize } from './lib/stats.mjs';

const CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const LANES = Number(process.env.BENCH_TURN_SESSIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_TURN_ROUNDS ?? 20);
const WARMUP_ROUNDS = Number(process.env.BENCH_TURN_WARMUP ?? 2);
const RUNNERS = Number(process.env.BENCH_TURN_RUNNERS ?? 8);
const QUEUED = Number(process.env.BENCH_TURN_QUEUED ?? 2000);
/**
 * Each lane waits 15 ms plus up to this long (uniformly) before each message:
 * paced, every session sends about twice a second (~100 turns/s in all); the
 * stress rate is about ten times that (~600 turns/s), with the server and the
 * load generator sharing the machine's CPUs. Both are held to the targets.
 */
const PACED_GAP_MS = Number(process.env.BENCH_TURN_GAP_MS ?? 1000);
const STRESS_GAP_MS = Number(process.env.BENCH_TURN_STRESS_GAP_MS ?? 100);
const log = (line = '') => process.stdout.write(`${line}\n`);
const phases = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function json(client, method, path, body, headers = {}) {
  const res = await client.request(method, path, {
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = res.body.toString('utf8');
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function expectOk(promise, what) {
  const res = await promise;
  if (res.status >= 300 && res.status !== 204) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** A live SSE reader of a session's `out`; `next(turnId)` resolves when that turn's first event arrives. */
async function openReader(url, sessionId) {
  const client = new HttpClient(url, { maxSockets: 1, headers: auth });
  const waiters = new Map();
  const parser = new SseParser((name, data, receivedAt) => {
    if (name !== 'data') return;
    for (const event of JSON.parse(data)) {
      const waiter = waiters.get(event.turnId);
      if (waiter && event.type === 'custom.first') {
        waiters.delete(event.turnId);
        waiter(receivedAt);
      }
    }
  });
  const controller = new AbortController();
  await client.openStream(`/v1/stream/sessions/${sessionId}/out?offset=now&live=sse`, {
    signal: controller.signal,
    onChunk: (text, at) => parser.push(text, at),
  });
  return {
    next: (turnId) => new Promise((resolve) => waiters.set(turnId, resolve)),
    close: () => {
      controller.abort();
      client.close();
    },
  };
}

/** One session, its runner and its reader: send, claim, first append, seen. */
async function lane(url, index, samples, rounds, gapMs) {
  const client = new HttpClient(url, { maxSockets: 4, headers: auth });
  const agent = `bench-lane-${index}-${Date.now()}`;
  const { body } = await expectOk(json(client, 'POST', '/v1/sessions', { agent }), 'create');
  const sessionId = body.session.id;
  const reader = await openReader(url, sessionId);
  try {
    for (let round = 0; round < rounds; round++) {
      const claiming = json(client, 'POST', '/v1/runners/claim', { runnerId: `runner-${index}`, agents: [agent], waitMs: 10_000 });
      // Let the claim reach the server and wait there, as a runner's would; the
      // lanes' messages arrive spread out, as independent users' would.
      await sleep(15 + Math.random() * gapMs);
      const sentAt = performance.now();
      const sent = json(client, 'POST', `/v1/sessions/${sessionId}/messages`, { content: `hello ${round}` });
      const claim = await expectOk(claiming, 'claim');
      const claimedAt = performance.now();
      if (claim.status !== 200) throw new Error('claim timed out');
      const { turn, lease } = claim.body;
      const seen = reader.next(turn.id);
      await expectOk(
        json(client, 'POST', `/v1/stream/sessions/${sessionId}/out`, { type: 'custom.first', turnId: turn.id }, {
          'producer-id': 'tether-runner',
          'producer-epoch': String(lease.epoch),
          'producer-seq': '0',
        }),
        'first append',
      );
      const appendedAt = performance.now();
      const seenAt = await seen;
      if (samples && process.env.BENCH_TURN_DEBUG) phases.push([claimedAt - sentAt, appendedAt - claimedAt, seenAt - appendedAt]);
      await expectOk(sent, 'send');
      if (samples) samples.push(seenAt - sentAt);
      await expectOk(
        json(client, 'POST', `/v1/sessions/${sessionId}/turns/${turn.id}/complete`, { epoch: lease.epoch, status: 'completed' }),
        'complete',
      );
    }
  } finally {
    reader.close();
    client.close();
  }
}

async function turnLatency(url, gapMs) {
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane(url, i, null, WARMUP_ROUNDS, gapMs)));
  const samples = [];
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane(url, i, samples, ROUNDS, gapMs)));
  if (phases.length) {
    for (const [i, label] of ['send→claimed', 'claimed→appended', 'appended→seen'].entries()) {
      const s = summarize(phases.map((p) => p[i]));
      log(`    ${label}: p50 ${s.p50} p99 ${s.p99}`);
    }
    phases.length = 0;
  }
  return summarize(samples);
}

async function claimThroughput(url) {
  const client = new HttpClient(url, { maxSockets: 32, headers: auth });
  const agent = `bench-claims-${Date.now()}`;
  const perSession = 5;
  const sessions = Math.ceil(QUEUED / perSession);
  for (let i = 0; i < sessions; i += 32) {
    await Promise.all(
      Array.from({ length: Math.min(32, sessions - i) }, async () => {
        const { body } = await expectOk(json(client, 'POST', '/v1/sessions', { agent }), 'create');
        for (let t = 0; t < perSession; t++) {
          await expectOk(json(client, 'POST', `/v1/sessions/${body.session.id}/messages`, { content: 't', policy: 'enqueue' }), 'send');
        }
      }),
    );
  }
  let claims = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: RUNNERS }, async (_, r) => {
      const runner = new HttpClient(url, { maxSockets: 1, headers: auth });
      for (;;) {
        const claim = await expectOk(json(runner, 'POST', '/v1/runners/claim', { runnerId: `r${r}`, agents: [agent], waitMs: 0 }), 'claim');
        if (claim.status === 204) break;
        claims++;
        const { turn, lease } = claim.body;
        await expectOk(
          json(runner, 'POST', `/v1/sessions/${turn.sessionId}/turns/${turn.id}/complete`, { epoch: lease.epoch, status: 'completed' }),
          'complete',
        );
      }
      runner.close();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  client.close();
  return { runners: RUNNERS, turns: claims, seconds: Number(seconds.toFixed(2)), claimsPerSecond: Math.round(claims / seconds) };
}

/** Requests carry the admin key the server made on its first start, as any client's would. */
/** One key makes every request here: its rate limit would measure the limiter, not the server. */
const UNLIMITED = ['--rate-limit', '0'];
let auth = {};

async function runTarget(name, args, dataDir) {
  const nodeArgs = process.env.BENCH_TETHER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const server = await startServerProcess({ args: [...nodeArgs, CLI, 'serve', '--port', '0', '--log-level', 'warn', '--data-dir', dataDir, ...UNLIMITED, ...args] });
  try {
    const key = (await readFile(join(dataDir, 'admin-key'), 'utf8').catch(() => {
      throw new Error(`${name}: no admin key was made; the database must be empty (a scratch database)`);
    })).trim();
    auth = { authorization: `Bearer ${key}` };
    log(`\n${name}`);
    const latency = await turnLatency(server.url, PACED_GAP_MS);
    log(`  send → claim → first out event seen (${LANES} sessions, paced): p50 ${latency.p50} ms, p99 ${latency.p99} ms (n=${latency.count})`);
    const stress = await turnLatency(server.url, STRESS_GAP_MS);
    log(`  the same at the stress rate (~600 turns/s):     p50 ${stress.p50} ms, p99 ${stress.p99} ms (n=${stress.count})`);
    const claims = await claimThroughput(server.url);
    log(`  claims with ${claims.runners} runners: ${claims.claimsPerSecond}/s (${claims.turns} turns in ${claims.seconds} s)`);
    return { target: name, latency, stress, claims };
  } finally {
    await server.stop();
  }
}

const results = [];
const dataDir = await mkdtemp(join(os.tmpdir(), 'tether-bench-turns-'));
try {
  results.push(await runTarget('tether (sqlite)', [], join(dataDir, 'sqlite')));
  if (process.env.BENCH_POSTGRES_URL) {
    const pg = ['--postgres', process.env.BENCH_POSTGRES_URL, '--pg-pool-size', process.env.BENCH_PG_POOL_SIZE ?? '10'];
    results.push(await runTarget('tether (postgres)', pg, join(dataDir, 'postgres')));
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
if (!process.env.BENCH_POSTGRES_URL) {
  log('\n(PostgreSQL skipped: set BENCH_POSTGRES_URL to a scratch database to include it)');
}
for (const pace of ['latency', 'stress']) {
  const figures = results[0][pace];
  log(`targets (sqlite, ${pace === 'latency' ? 'paced' : 'stress'}): p50 < 10 ms ${figures.p50 < 10 ? 'met' : 'MISSED'}, p99 < 50 ms ${figures.p99 < 50 ? 'met' : 'MISSED'}`);
}
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/turns-latest.json', import.meta.url), `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);

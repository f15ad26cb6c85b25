/**
 * Figure (b): how long an appended message takes to reach a reader already
 * waiting live on the stream. One writer appends one message at a time, every
 * `latencyIntervalMs`, on a lean keep-alive connection (as in figure (a));
 * a sample runs from just before the POST is sent to the moment the reader
 * has received the message carrying that id.
 */
import { performance } from 'node:perf_hooks';
import { HttpClient, expectStatus } from '../lib/http-client.mjs';
import { makeMessage } from '../lib/messages.mjs';
import { WireConnection } from '../lib/wire-client.mjs';
import { SseParser } from '../lib/sse-parser.mjs';
import { summarize } from '../lib/stats.mjs';
import { JSON_HEADERS, createJsonStream, freshStreamPath, sleep } from '../lib/streams.mjs';

const SETTLE_MS = 200;
const DRAIN_TIMEOUT_MS = 10_000;

function liveQuery(offset, mode, cursor) {
  const query = `?offset=${encodeURIComponent(offset)}&live=${mode}`;
  return cursor ? `${query}&cursor=${encodeURIComponent(cursor)}` : query;
}

/** Long-poll loop: re-issues the request at the returned offset after every answer. */
async function readLongPoll(client, path, offset, deliver, signal) {
  let cursor;
  while (!signal.aborted) {
    let res;
    try {
      res = await client.request('GET', path + liveQuery(offset, 'long-poll', cursor), { signal });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    await expectStatus(res, [200, 204], 'long-poll');
    if (res.status === 200 && res.body.length) deliver(JSON.parse(res.body.toString('utf8')), res.receivedAt);
    offset = res.headers['stream-next-offset'] ?? offset;
    cursor = res.headers['stream-cursor'] ?? cursor;
  }
}

/** SSE loop: one long response; reconnects at the last control offset if the server ends it. */
async function readSse(client, path, offset, deliver, signal, onReady) {
  let cursor;
  while (!signal.aborted) {
    let res;
    const parser = new SseParser((event, data, receivedAt) => {
      if (event === 'data') deliver(JSON.parse(data), receivedAt);
      else if (event === 'control') {
        const control = JSON.parse(data);
        offset = control.streamNextOffset ?? offset;
        cursor = control.streamCursor ?? cursor;
        onReady();
      }
    });
    try {
      res = await client.openStream(path + liveQuery(offset, 'sse', cursor), {
        signal,
        onChunk: (text, receivedAt) => parser.push(text, receivedAt),
      });
      if (res.statusCode !== 200) throw new Error(`SSE: HTTP ${res.statusCode}`);
      await new Promise((resolve) => res.once('close', resolve));
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}

/** One round of probes; `combineLatencyRuns` pools the samples of all rounds. */
export async function deliveryLatency(baseUrl, config, { mode, readerUrl = baseUrl }) {
  const setup = new HttpClient(baseUrl, { maxSockets: 1 });
  const reader = new HttpClient(readerUrl, { maxSockets: 1 });
  const abort = new AbortController();
  let writer = null;
  try {
    const path = freshStreamPath(`latency-${mode}`);
    const tail = await createJsonStream(setup, path);
    writer = await WireConnection.open(baseUrl);
    const total = config.latencyWarmupSamples + config.latencySamples;
    const sentAt = new Map();
    const samples = [];
    let received = 0;
    let allReceived;
    const done = new Promise((resolve) => (allReceived = resolve));
    const deliver = (messages, receivedAt) => {
      for (const message of messages) {
        const started = sentAt.get(message.id);
        if (started === undefined) continue;
        sentAt.delete(message.id);
        if (message.id >= config.latencyWarmupSamples) samples.push(receivedAt - started);
        if (++received === total) allReceived();
      }
    };

    let ready;
    const readerReady = new Promise((resolve) => (ready = resolve));
    const reading =
      mode === 'sse'
        ? readSse(reader, path, tail, deliver, abort.signal, () => ready())
        : readLongPoll(reader, path, tail, deliver, abort.signal);
    const failed = reading.then(
      () => {},
      (error) => {
        throw new Error(`${mode} reader failed: ${error.message}`);
      },
    );
    if (mode !== 'sse') ready();
    await Promise.race([readerReady, failed]);
    // Let the reader's request reach the server and park before the first probe.
    await sleep(SETTLE_MS);

    const acks = [];
    for (let id = 0; id < total; id++) {
      const request = writer.prepare('POST', path, JSON_HEADERS, Buffer.from(makeMessage(id, config.messageBytes)));
      const started = performance.now();
      sentAt.set(id, started);
      const res = await writer.send(request);
      await expectStatus(res, [200, 204], 'append');
      if (id >= config.latencyWarmupSamples) acks.push(res.receivedAt - started);
      const wait = started + config.latencyIntervalMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_TIMEOUT_MS, 'timeout')));
    const outcome = await Promise.race([done, timeout, failed]).finally(() => clearTimeout(timer));
    if (outcome === 'timeout') throw new Error(`${mode} reader received ${received} of ${total} messages`);
    return { mode, intervalMs: config.latencyIntervalMs, samples, acks };
  } finally {
    abort.abort();
    setup.close();
    writer?.close();
    reader.close();
  }
}

export function combineLatencyRuns(runs) {
  return {
    mode: runs[0].mode,
    intervalMs: runs[0].intervalMs,
    deliveryMs: summarize(runs.flatMap((r) => r.samples)),
    appendAckMs: summarize(runs.flatMap((r) => r.acks)),
    roundsDeliveryP50Ms: runs.map((r) => summarize(r.samples).p50),
    /** Share of the CPUs other processes used during each round (see run.mjs). */
    otherCpuByRound: runs.map((r) => r.otherCpu ?? null),
  };
}

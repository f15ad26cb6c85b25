/**
 * Figure (c): replaying a long stream. The stream is filled with
 * `catchUpMessages` messages (batched POSTs, untimed), then read from offset
 * -1, following Stream-Next-Offset until the server says Stream-Up-To-Date.
 * Each read round is timed; the median round is reported. Bodies are checked
 * for the full message count after the clock stops.
 */
import { performance } from 'node:perf_hooks';
import { HttpClient, expectStatus } from '../lib/http-client.mjs';
import { makeBatch } from '../lib/messages.mjs';
import { median } from '../lib/stats.mjs';
import { JSON_HEADERS, createJsonStream, freshStreamPath } from '../lib/streams.mjs';

const MAX_REQUESTS = 1_000_000;

async function fill(client, path, config) {
  for (let first = 0; first < config.catchUpMessages; first += config.catchUpBatch) {
    const count = Math.min(config.catchUpBatch, config.catchUpMessages - first);
    const res = await client.request('POST', path, { headers: JSON_HEADERS, body: makeBatch(first, count, config.messageBytes) });
    await expectStatus(res, [200, 204], 'fill append');
  }
}

async function readAll(client, path) {
  const bodies = [];
  let offset = '-1';
  let bytes = 0;
  const start = performance.now();
  for (let requests = 1; requests <= MAX_REQUESTS; requests++) {
    const res = await client.request('GET', `${path}?offset=${encodeURIComponent(offset)}`);
    await expectStatus(res, [200], 'catch-up read');
    bytes += res.body.length;
    bodies.push(res.body);
    const next = res.headers['stream-next-offset'];
    if (!next) throw new Error('catch-up read: no Stream-Next-Offset header');
    if (res.headers['stream-up-to-date'] === 'true' || next === offset) {
      return { seconds: (performance.now() - start) / 1000, bytes, requests, bodies };
    }
    offset = next;
  }
  throw new Error(`catch-up read did not reach the tail in ${MAX_REQUESTS} requests`);
}

function countMessages(bodies) {
  let count = 0;
  for (const body of bodies) if (body.length) count += JSON.parse(body.toString('utf8')).length;
  return count;
}

export async function catchUpRead(baseUrl, config) {
  const client = new HttpClient(baseUrl, { maxSockets: 1 });
  try {
    const path = freshStreamPath('catchup');
    await createJsonStream(client, path);
    const fillStart = performance.now();
    await fill(client, path, config);
    const fillSeconds = (performance.now() - fillStart) / 1000;

    const rounds = [];
    for (let r = 0; r < config.catchUpRounds; r++) {
      const round = await readAll(client, path);
      const messages = countMessages(round.bodies);
      if (messages !== config.catchUpMessages) {
        throw new Error(`catch-up read returned ${messages} messages, expected ${config.catchUpMessages}`);
      }
      rounds.push({ seconds: round.seconds, bytes: round.bytes, requests: round.requests });
    }
    const seconds = median(rounds.map((r) => r.seconds));
    const { bytes, requests } = rounds[0];
    return {
      messages: config.catchUpMessages,
      bytes,
      requests,
      seconds: Number(seconds.toFixed(4)),
      roundsSeconds: rounds.map((r) => Number(r.seconds.toFixed(4))),
      messagesPerSec: Math.round(config.catchUpMessages / seconds),
      megabytesPerSec: Number((bytes / 1e6 / seconds).toFixed(1)),
      fillSeconds: Number(fillSeconds.toFixed(2)),
    };
  } finally {
    client.close();
  }
}

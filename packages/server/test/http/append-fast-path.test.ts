/**
 * Appends are answered by a raw-HTTP path ahead of Fastify — read off a fresh
 * connection's socket, or from Node's parsed request — and by the Fastify
 * route when the URL has a query string. Every case here is sent all three
 * ways, to streams that start out identical, and the answers must match in
 * status, headers and body — so the fast path cannot drift from the route it
 * stands in for. The path's counters show which way each request went.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TetherClient } from '@tether/client';
import { header, startTestServer, type RawResponse, type RequestOptions, type TestServer } from './http-harness.js';
import { WireClient, requestBytes, type WireResponse } from './wire-client.js';

const LIMIT = 1024;
const ORIGIN = 'https://console.example';
const JSON_CT = { 'content-type': 'application/json' };
const TEXT_CT = { 'content-type': 'text/plain' };
/** Headers that differ between any two responses. */
const VOLATILE = new Set(['date', 'connection', 'keep-alive']);

let t: TestServer;
let client: TetherClient;
let runnerKey: string;
let clientKey: string;
let sessionId: string;

beforeAll(async () => {
  t = await startTestServer({ maxMessageBytes: LIMIT, corsOrigins: [ORIGIN], rateLimitPerSecond: 0 });
  client = createClient({ url: t.url, apiKey: t.key });
  runnerKey = (await client.keys.create({ role: 'runner', name: 'fast-path-runner' })).key;
  clientKey = (await client.keys.create({ role: 'client', name: 'fast-path-client' })).key;
  sessionId = (await client.sessions.create({})).session.id;
});

afterAll(async () => {
  await t?.stop();
});

function comparable(response: RawResponse | WireResponse): { status: number; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(response.headers).sort()) {
    if (!VOLATILE.has(name)) headers[name] = header(response, name)!;
  }
  return { status: response.status, headers, body: response.body.toString('utf8') };
}

interface Case {
  name: string;
  /** Path under the pair's prefix; the default is the pair's JSON stream. */
  stream?: string;
  options: RequestOptions;
  /** Expected status, so a case that stops testing what it says fails. */
  status: number;
}

/** Sends the request as the only one on a new connection, so the socket-level path sees it first. */
async function sendOnWire(path: string, options: RequestOptions): Promise<WireResponse> {
  const headers: Record<string, string> = {};
  if (!options.anonymous) headers.authorization = `Bearer ${t.key}`;
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name] = [value].flat().join(', ');
  let body = options.body === undefined ? '' : options.body.toString();
  if (options.chunked) {
    headers['transfer-encoding'] = 'chunked';
    body = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  }
  const wire = await WireClient.open(t.url);
  try {
    wire.write(requestBytes('POST', path, headers, body));
    return await wire.read();
  } finally {
    wire.destroy();
  }
}

/**
 * Runs the cases in order on `wire/...` (a fresh connection: read off the
 * socket), `fast/...` (Node's request, then the fast path) and `route/...`
 * (with a query: Fastify).
 */
async function both(prefix: string, cases: Case[], setup: (path: string) => Promise<void>): Promise<void> {
  const wirePath = `/v1/stream/${prefix}/wire`;
  const fast = `/v1/stream/${prefix}/fast`;
  const route = `/v1/stream/${prefix}/route`;
  await setup(wirePath);
  await setup(fast);
  await setup(route);
  const { fastPath, wire } = t.server.tether;
  for (const c of cases) {
    // Chunked bodies and declared lengths over the limit are Node's to read.
    const offWire = !c.options.chunked && Buffer.byteLength(c.options.body ?? '') <= LIMIT;
    const answered = wire.answered;
    const viaWire = await sendOnWire(`${wirePath}${c.stream ?? ''}`, c.options);
    expect(wire.answered, `${c.name}: read off the socket`).toBe(answered + (offWire ? 1 : 0));
    const before = fastPath.taken;
    const viaFast = await t.send('POST', `${fast}${c.stream ?? ''}`, c.options);
    expect(fastPath.taken, `${c.name}: taken by the fast path`).toBe(before + 1);
    const viaRoute = await t.send('POST', `${route}${c.stream ?? ''}?via=route`, c.options);
    expect(fastPath.taken, `${c.name}: left to Fastify`).toBe(before + 1);
    expect(viaFast.status, c.name).toBe(c.status);
    expect(comparable(viaFast), c.name).toEqual(comparable(viaRoute));
    expect(comparable(viaWire), `${c.name} (off the socket)`).toEqual(comparable(viaRoute));
  }
}

const json = (body: string, headers: Record<string, string> = {}): RequestOptions => ({ headers: { ...JSON_CT, ...headers }, body });
const producer = (epoch: number, seq: number) => ({ 'producer-id': 'p1', 'producer-epoch': String(epoch), 'producer-seq': String(seq) });

describe('the append fast path answers as the Fastify route does', () => {
  it('on JSON streams: appends, bad bodies, closing, sequence numbers and CORS', async () => {
    await both(
      'json',
      [
        { name: 'one message', options: json('{"a":1}'), status: 204 },
        { name: 'an array of messages', options: json('[1,2,{"b":3}]'), status: 204 },
        { name: 'an empty array', options: json('[]'), status: 400 },
        { name: 'invalid JSON', options: json('{"a":'), status: 400 },
        { name: 'an empty body', options: json(''), status: 400 },
        { name: 'another content type', options: { headers: TEXT_CT, body: 'x' }, status: 409 },
        { name: 'no content type', options: { body: '1' }, status: 400 },
        { name: 'a content type with parameters', options: json('7', { 'content-type': 'Application/JSON; charset=utf-8' }), status: 204 },
        { name: 'Stream-Seq', options: json('1', { 'stream-seq': 'b' }), status: 204 },
        { name: 'a Stream-Seq that goes back', options: json('1', { 'stream-seq': 'a' }), status: 409 },
        { name: 'an allowed origin', options: json('2', { origin: ORIGIN }), status: 204 },
        { name: 'another origin', options: json('3', { origin: 'https://elsewhere.example' }), status: 204 },
        { name: 'a body over the limit', options: json(JSON.stringify('x'.repeat(LIMIT))), status: 413 },
        { name: 'a chunked body over the limit', options: { ...json(JSON.stringify('x'.repeat(LIMIT))), chunked: true }, status: 413 },
        { name: 'a chunked body', options: { ...json('{"c":1}'), chunked: true }, status: 204 },
        { name: 'a missing stream', stream: '-missing', options: json('1'), status: 404 },
        { name: 'no credential', options: { ...json('1'), anonymous: true }, status: 401 },
        { name: 'a bad credential', options: json('1', { authorization: 'Bearer tk_nonsense' }), status: 401 },
        { name: 'append and close', options: json('4', { 'stream-closed': 'true' }), status: 204 },
        { name: 'append after close', options: json('5'), status: 409 },
      ],
      async (path) => {
        expect((await t.send('PUT', path, { headers: JSON_CT })).status).toBe(201);
      },
    );
  });

  it('for idempotent producers', async () => {
    await both(
      'producer',
      [
        { name: 'first seq', options: { headers: { ...TEXT_CT, ...producer(0, 0) }, body: 'a' }, status: 200 },
        { name: 'duplicate', options: { headers: { ...TEXT_CT, ...producer(0, 0) }, body: 'a' }, status: 204 },
        { name: 'gap', options: { headers: { ...TEXT_CT, ...producer(0, 5) }, body: 'b' }, status: 409 },
        { name: 'new epoch', options: { headers: { ...TEXT_CT, ...producer(1, 0) }, body: 'c' }, status: 200 },
        { name: 'stale epoch', options: { headers: { ...TEXT_CT, ...producer(0, 1) }, body: 'd' }, status: 403 },
        { name: 'partial producer headers', options: { headers: { ...TEXT_CT, 'producer-id': 'p1' }, body: 'e' }, status: 400 },
        { name: 'close by producer', options: { headers: { ...TEXT_CT, ...producer(1, 1), 'stream-closed': 'true' } }, status: 204 },
        { name: 'retried close', options: { headers: { ...TEXT_CT, ...producer(1, 1), 'stream-closed': 'true' } }, status: 204 },
      ],
      async (path) => {
        expect((await t.send('PUT', path, { headers: TEXT_CT })).status).toBe(201);
      },
    );
  });

  it('on paths and session channels', async () => {
    for (const via of ['', '?via=route']) {
      const reserved = await t.send('POST', `/v1/stream/.projects/x${via}`, json('1'));
      expect(reserved.status).toBe(403);
      const unknown = await t.send('POST', `/v1/stream/sessions/ses_00000000000000000000000000/out${via}`, json('{"type":"x"}'));
      expect(unknown.status).toBe(404);
    }
    const out = `/v1/stream/sessions/${sessionId}/out`;
    const event = JSON.stringify({ type: 'message.delta', messageId: 'm1', text: 'hi' });
    const asClient = await t.send('POST', out, json(event, { authorization: `Bearer ${clientKey}` }));
    const asClientViaRoute = await t.send('POST', `${out}?via=route`, json(event, { authorization: `Bearer ${clientKey}` }));
    expect(asClient.status).toBe(403);
    expect(comparable(asClient)).toEqual(comparable(asClientViaRoute));
    const asRunner = await t.send('POST', out, json(event, { authorization: `Bearer ${runnerKey}` }));
    expect(asRunner.status).toBe(204);
    const invalid = await t.send('POST', out, json('{"type":"message.delta","messageId":"m1"}', { authorization: `Bearer ${runnerKey}` }));
    const invalidViaRoute = await t.send('POST', `${out}?via=route`, json('{"type":"message.delta","messageId":"m1"}', { authorization: `Bearer ${runnerKey}` }));
    expect(invalid.status).toBe(400);
    expect(comparable(invalid)).toEqual(comparable(invalidViaRoute));
  });

  it('leaves escaped paths and odd content types to Fastify', async () => {
    const before = t.server.tether.fastPath.taken;
    // Fastify refuses a body it has no parser for: 415, before the route runs.
    expect((await t.send('POST', '/v1/stream/esc', { headers: { 'content-type': 'nonsense' }, body: 'x' })).status).toBe(415);
    expect((await t.send('PUT', '/v1/stream/esc%20aped', { headers: TEXT_CT })).status).toBe(201);
    expect((await t.send('POST', '/v1/stream/esc%20aped', { headers: TEXT_CT, body: 'x' })).status).toBe(204);
    expect((await t.send('POST', '/v1/stream/bad%zzescape', { headers: TEXT_CT, body: 'x' })).status).toBe(400);
    expect(t.server.tether.fastPath.taken).toBe(before);
  });
});

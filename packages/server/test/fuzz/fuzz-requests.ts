/**
 * Random and malformed requests for the fuzz test: any registered route (or
 * none), with ids that exist and ids that do not, mangled path segments,
 * query strings, headers, credentials and bodies — empty, huge, not UTF-8,
 * not JSON, JSON of the wrong shape. Seeded, so a failure can be replayed.
 */
import { RUNNER_PRODUCER_ID } from '../../src/storage/turn-types.js';
import type { World } from '../auth/route-walk.js';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** mulberry32: small, fast and good enough to pick test cases. */
export function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}

type Rng = ReturnType<typeof random>;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const WEIRD = [
  '',
  '.',
  '..',
  '%2e%2e',
  '%zz',
  '%00',
  '%E0%A4%A',
  '%C0%AF',
  '\u00e9t\u00e9',
  '%F0%9F%92%A9',
  '..%2f..%2fetc%2fpasswd',
  'ses_00000000000000000000000000',
  'ses_',
  'SES_01',
  'a'.repeat(300),
  'x'.repeat(5000),
  '%20',
  '-1',
  'null',
  '__proto__',
  'constructor',
  '0',
  '9'.repeat(40),
  '.projects',
];

const QUERY_KEYS = ['offset', 'live', 'cursor', 'limit', 'token', 'status', 'tag', 'agent', 'type', 'createdAfter', 'createdBefore', 'parentId', 'prefix', 'format', 'q', 'x'];
const QUERY_VALUES = ['-1', 'now', 'sse', 'long-poll', 'true', '0', '201', '-5', '1e309', 'abc', '', '%zz', '0000000000000000_0000000000000000', '9999999999999999_9999999999999999', 'idle', 'waiting', 'bogus', '2030-01-01T00:00:00Z', 'yesterday', 'z'.repeat(3000)];

const HEADER_VALUES = ['', '0', '-1', '1', '18446744073709551616', 'abc', 'true', 'false', '"1"', '*', 'W/"x"', '2030-01-01T00:00:00Z', 'not a date', '\t', 'x'.repeat(4000), '/v1/stream/walk/nope', '/v1/stream/../x'];
const STREAM_HEADERS = [
  'producer-id',
  'producer-epoch',
  'producer-seq',
  'stream-seq',
  'stream-ttl',
  'stream-expires-at',
  'stream-closed',
  'stream-forked-from',
  'stream-fork-offset',
  'if-match',
  'if-none-match',
  'last-event-id',
];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'application/x-ndjson', 'multipart/form-data; boundary=x', 'garbage', 'application/json; charset=latin1', ''];

function mangle(rng: Rng, value: string): string {
  switch (rng.int(6)) {
    case 0:
      return rng.pick(WEIRD);
    case 1:
      return value + rng.pick(WEIRD);
    case 2:
      return value.slice(0, rng.int(value.length + 1));
    case 3:
      return encodeURIComponent(value).replace(/%/g, rng.chance(0.5) ? '%25' : '%');
    default:
      return value;
  }
}

function jsonValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER]);
    case 3:
      return rng.pick(['', 'x', 'é', '\u0000', '<script>', 'ses_00000000000000000000000000', 'y'.repeat(rng.int(2000))]);
    case 4:
      return rng.pick(['completed', 'failed', 'read', 'write', 'admin', 'enqueue', 'interrupt', 'choice']);
    case 5:
      return Array.from({ length: rng.int(4) }, () => jsonValue(rng, depth + 1));
    default: {
      const keys = ['type', 'title', 'tags', 'metadata', 'content', 'policy', 'epoch', 'status', 'response', 'deny', 'runnerId', 'agents', 'waitMs', 'leaseMs', 'name', 'role', 'sessionId', 'scopes', 'ttlSeconds', 'id', 'reason', 'offset', 'externalId', 'parentId', 'input', 'interactionId', 'kind', 'prompt', 'choices', '__proto__', 'constructor'];
      const out: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) out[rng.pick(keys)] = jsonValue(rng, depth + 1);
      return out;
    }
  }
}

function body(rng: Rng, maxBytes: number): Buffer | undefined {
  switch (rng.int(9)) {
    case 0:
      return undefined;
    case 1:
      return Buffer.alloc(0);
    case 2:
      return Buffer.from(Array.from({ length: rng.int(200) }, () => rng.int(256)));
    case 3:
      return Buffer.alloc(maxBytes + 1 + rng.int(1000), 0x61);
    case 4:
      return Buffer.from(rng.pick(['{', '[', '{"a":', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', 'null', '"str"', '[[[[[[[[[[]]]]]]]]]]', '\uFEFF{}', '{"a":1}{"b":2}', '[' + '['.repeat(5000)]));
    case 5:
      return Buffer.from([0xff, 0xfe, 0x7b, 0x7d, 0xc3, 0x28]);
    default:
      return Buffer.from(JSON.stringify(jsonValue(rng)));
  }
}

export interface FuzzContext {
  routes: { method: string; url: string }[];
  worlds: World[];
  credentials: string[];
  maxMessageBytes: number;
}

/** Fills a registered route's parameters, mostly with ids that exist. */
function fillRoute(rng: Rng, url: string, world: World): string {
  const ids: Record<string, string[]> = {
    ref: [world.sessionId, world.sessionId, 'ext-none'],
    turnId: [world.turnId, 'turn_nope'],
    interactionId: [world.interactionId, 'int_nope'],
    id: [world.keyId, 'key_nope'],
  };
  let path = url.replace(/:(\w+)/g, (_m, name: string) => {
    const value = rng.pick(ids[name] ?? ['x']);
    return rng.chance(0.2) ? mangle(rng, value) : value;
  });
  if (path.endsWith('*')) {
    const tails = path.startsWith('/v1/stream/')
      ? [world.rawStream.slice('/v1/stream/'.length), `sessions/${world.sessionId}/in`, `sessions/${world.sessionId}/out`, `fuzz/${rng.int(20)}`, 'sessions/x', '.projects/default/x']
      : ['a.txt', 'b/c.bin', 'fuzz.txt'];
    path = path.slice(0, -1) + (rng.chance(0.25) ? mangle(rng, rng.pick(tails)) : rng.pick(tails));
  }
  return path;
}

export function fuzzRequest(rng: Rng, ctx: FuzzContext): FuzzRequest {
  const world = rng.pick(ctx.worlds);
  const route = rng.pick(ctx.routes);
  const method = rng.chance(0.85) ? route.method : rng.pick(METHODS);
  let path = rng.chance(0.95) ? fillRoute(rng, route.url, world) : `/${mangle(rng, 'v1')}/${mangle(rng, 'anything')}`;
  if (rng.chance(0.5)) {
    const pairs = Array.from({ length: 1 + rng.int(4) }, () => `${rng.chance(0.9) ? rng.pick(QUERY_KEYS) : mangle(rng, 'k')}=${rng.chance(0.8) ? encodeURIComponent(rng.pick(QUERY_VALUES)) : mangle(rng, 'v')}`);
    path += `?${pairs.join('&')}`;
  }
  const headers: Record<string, string> = {};
  const auth = rng.int(10);
  if (auth < 7) headers.authorization = `Bearer ${ctx.credentials[auth % ctx.credentials.length]}`;
  else if (auth === 7) headers.authorization = rng.pick(['Bearer', 'Bearer ', 'Basic abc', 'bearer tk_', `Bearer ${'t'.repeat(5000)}`, 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.e30.']);
  if (rng.chance(0.8)) {
    const type = rng.pick(CONTENT_TYPES);
    if (type) headers['content-type'] = type;
  }
  for (let i = rng.int(4); i > 0; i--) {
    const name = rng.pick(STREAM_HEADERS);
    headers[name] = name === 'producer-id' && rng.chance(0.5) ? RUNNER_PRODUCER_ID : rng.pick(HEADER_VALUES);
  }
  if (rng.chance(0.05)) headers['x-huge'] = 'h'.repeat(8_000);
  return { method, path, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body(rng, ctx.maxMessageBytes) };
}

/**
 * Malformed requests against a real listening server. Each must be refused
 * with the protocol's 4xx and a `{ error: { code, message } }` body, and must
 * change nothing: the tail, closed flag and content of the streams it aimed at
 * are compared before and after every request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.js';
import { errorOf, header, startTestServer, type RawResponse, type RequestOptions, type TestServer } from './http-harness.js';

const LIMIT = 64 * 1024;
const PREFIX = '/v1/stream/';
const BYTES = `${PREFIX}bad-input/bytes`;
const JSON_STREAM = `${PREFIX}bad-input/json`;
const TEXT = { 'content-type': 'text/plain' };
const JSON_CT = { 'content-type': 'application/json' };

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ maxMessageBytes: LIMIT });
  expect((await t.send('PUT', BYTES, { headers: TEXT, body: 'seed' })).status).toBe(201);
  expect((await t.send('PUT', JSON_STREAM, { headers: JSON_CT, body: '[1,{"a":2}]' })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
});

interface Snapshot {
  status: number;
  next?: string;
  closed?: string;
  body?: string;
}

async function snapshot(path: string): Promise<Snapshot> {
  const head = await t.send('HEAD', path);
  if (head.status !== 200) return { status: head.status };
  const read = await t.send('GET', `${path}?offset=-1`);
  expect(read.status).toBe(200);
  return {
    status: head.status,
    next: header(head, 'stream-next-offset'),
    closed: header(head, 'stream-closed'),
    body: read.body.toString('base64'),
  };
}

function expectError(response: RawResponse, status: number, code: string): void {
  const error = errorOf(response);
  expect({ status: response.status, code: error?.code }).toEqual({ status, code });
  expect(error!.message.length).toBeGreaterThan(0);
  expect(header(response, 'content-type')).toMatch(/^application\/json/);
}

/** Sends a request that must be refused, checking `watched` streams are untouched. */
async function expectRefused(
  method: string,
  path: string,
  options: RequestOptions,
  expected: { status: number; code: string },
  watched: string[] = [BYTES, JSON_STREAM],
): Promise<void> {
  const before = await Promise.all(watched.map(snapshot));
  const response = await t.send(method, path, options);
  expect(response.status).toBeLessThan(500);
  if (method === 'HEAD') expect(response.status).toBe(expected.status);
  else expectError(response, expected.status, expected.code);
  expect(await Promise.all(watched.map(snapshot))).toEqual(before);
}

const INVALID_OFFSET = { status: 400, code: 'INVALID_OFFSET' };
const INVALID_HEADER = { status: 400, code: 'INVALID_HEADER' };
const BAD_REQUEST = { status: 400, code: 'BAD_REQUEST' };

describe('offsets and query parameters', () => {
  const badOffsets = [
    'abc',
    '0_0',
    '',
    '-2',
    '1',
    '0000000000000000_000000000000001',
    '00000000000000000_0000000000000001',
    '000000000000000_0000000000000001',
    '0000000000000000-0000000000000001',
    '0000000000000000_000000000000000a',
    '0000000000000001_0000000000000000',
    '0000000000000000_0000000000000099',
    '9999999999999999_9999999999999999',
  ];
  it.each(badOffsets)('rejects offset=%j on byte and JSON streams', async (offset) => {
    const query = `offset=${encodeURIComponent(offset)}`;
    for (const path of [BYTES, JSON_STREAM]) {
      await expectRefused('GET', `${path}?${query}`, {}, INVALID_OFFSET);
      await expectRefused('GET', `${path}?${query}&live=long-poll`, {}, INVALID_OFFSET);
    }
  });

  it('rejects a repeated offset and a live read without one', async () => {
    await expectRefused('GET', `${BYTES}?offset=-1&offset=-1`, {}, BAD_REQUEST);
    await expectRefused('GET', `${BYTES}?offset=-1&offset=0000000000000000_0000000000000000`, {}, BAD_REQUEST);
    await expectRefused('GET', `${BYTES}?live=long-poll`, {}, INVALID_OFFSET);
    await expectRefused('GET', `${JSON_STREAM}?live=sse`, {}, INVALID_OFFSET);
  });

  it.each(['foo', '', 'LONG-POLL', 'longpoll', 'true', 'sse&live=sse'])('rejects live=%s', async (live) => {
    await expectRefused('GET', `${BYTES}?offset=-1&live=${live}`, {}, BAD_REQUEST);
  });
});

describe('create headers', () => {
  let n = 0;
  /** A fresh target for each refused create, which must not come into being. */
  const refuseCreate = async (headers: Record<string, string | string[]>, expected: { status: number; code: string }, body?: string) => {
    const target = `${PREFIX}bad-input/new-${n++}`;
    await expectRefused('PUT', target, { headers, body }, expected, [BYTES, JSON_STREAM, target]);
    expect((await t.send('HEAD', target)).status).toBe(404);
  };

  it.each(['+1', '01', '1.5', '-1', '1e3', 'abc', '', ' ', '9007199254740992'])('rejects Stream-TTL %j', async (ttl) => {
    await refuseCreate({ ...TEXT, 'stream-ttl': ttl }, INVALID_HEADER);
    await expectRefused('PUT', BYTES, { headers: { ...TEXT, 'stream-ttl': ttl } }, INVALID_HEADER);
  });

  it('rejects Stream-TTL together with Stream-Expires-At, and either one twice', async () => {
    await refuseCreate({ 'stream-ttl': '60', 'stream-expires-at': '2031-01-01T00:00:00Z' }, INVALID_HEADER);
    await refuseCreate({ 'stream-ttl': ['60', '60'] }, INVALID_HEADER);
    await refuseCreate({ 'stream-expires-at': ['2031-01-01T00:00:00Z', '2031-01-01T00:00:00Z'] }, INVALID_HEADER);
  });

  const badExpiries = [
    'tomorrow',
    '2031-01-01',
    '2031-01-01T00:00:00',
    '1924992000000',
    '2031-13-01T00:00:00Z',
    '2031-02-30T00:00:00Z',
    '2031-04-31T10:00:00Z',
    '2031-01-01T24:00:00Z',
    '2031-01-01T23:60:00Z',
    '2031-01-01T00:00:00+25:00',
  ];
  it.each(badExpiries)('rejects Stream-Expires-At %j', async (expiresAt) => {
    await refuseCreate({ 'stream-expires-at': expiresAt }, INVALID_HEADER);
  });

  it.each(['-1', 'abc', '1.5', '01', '', '+1', '9007199254740992'])('rejects Stream-Fork-Sub-Offset %j', async (sub) => {
    const fork = { 'stream-forked-from': BYTES, 'stream-fork-offset': '0000000000000000_0000000000000000' };
    await refuseCreate({ ...fork, 'stream-fork-sub-offset': sub }, INVALID_HEADER);
  });

  it('rejects fork points outside the source and fork headers without a source', async () => {
    const from = { 'stream-forked-from': BYTES };
    await refuseCreate({ ...from, 'stream-fork-offset': '0000000000000000_0000000000000002', 'stream-fork-sub-offset': '3' }, BAD_REQUEST);
    await refuseCreate({ ...from, 'stream-fork-offset': '0000000000000000_0000000000000005' }, BAD_REQUEST);
    await refuseCreate({ ...from, 'stream-fork-sub-offset': '1' }, BAD_REQUEST);
    await refuseCreate({ ...from, 'stream-fork-offset': 'abc' }, INVALID_OFFSET);
    await refuseCreate({ 'stream-fork-offset': '0000000000000000_0000000000000000' }, INVALID_HEADER);
    await refuseCreate({ 'stream-fork-sub-offset': '0' }, INVALID_HEADER);
    await refuseCreate({ 'stream-forked-from': `${PREFIX}bad-input/../bad-input/bytes` }, BAD_REQUEST);
    await refuseCreate({ 'stream-forked-from': `${PREFIX}${'x'.repeat(1100)}` }, { status: 400, code: 'PATH_TOO_LONG' });
  });

  it('rejects an initial JSON body that is not JSON', async () => {
    for (const body of ['{', '[1,]', 'nul', "'x'"]) await refuseCreate(JSON_CT, { status: 400, code: 'INVALID_JSON' }, body);
  });
});

describe('append headers and bodies', () => {
  const producer = (id: string | undefined, epoch: string | undefined, seq: string | undefined) => {
    const headers: Record<string, string> = { ...TEXT };
    if (id !== undefined) headers['producer-id'] = id;
    if (epoch !== undefined) headers['producer-epoch'] = epoch;
    if (seq !== undefined) headers['producer-seq'] = seq;
    return headers;
  };

  it('rejects partial producer headers', async () => {
    const partial: [string | undefined, string | undefined, string | undefined][] = [
      ['w', undefined, undefined],
      ['w', '0', undefined],
      ['w', undefined, '0'],
      [undefined, '0', '0'],
      [undefined, undefined, '0'],
    ];
    for (const [id, epoch, seq] of partial) {
      await expectRefused('POST', BYTES, { headers: producer(id, epoch, seq), body: 'x' }, INVALID_HEADER);
    }
  });

  it.each(['-1', '1.5', 'abc', '01', '', '1e3', '9007199254740992', '18446744073709551616'])(
    'rejects Producer-Epoch and Producer-Seq %j',
    async (value) => {
      await expectRefused('POST', BYTES, { headers: producer('w', value, '0'), body: 'x' }, INVALID_HEADER);
      await expectRefused('POST', BYTES, { headers: producer('w', '0', value), body: 'x' }, INVALID_HEADER);
    },
  );

  it('rejects a numeric producer header given twice', async () => {
    // Node joins repeated fields into "0, 0"; for Producer-Id that is just an id.
    for (const name of ['producer-epoch', 'producer-seq']) {
      const headers = { ...producer('w', '0', '0'), [name]: ['0', '0'] };
      await expectRefused('POST', BYTES, { headers, body: 'x' }, INVALID_HEADER);
    }
  });

  it('rejects an empty Producer-Id', async () => {
    for (const id of ['', '   ']) {
      await expectRefused('POST', BYTES, { headers: producer(id, '0', '0'), body: 'x' }, INVALID_HEADER);
    }
  });

  it('accepts the largest safe epoch and seq (so the rejections above are about the values)', async () => {
    const path = `${PREFIX}bad-input/producer-max`;
    expect((await t.send('PUT', path, { headers: TEXT })).status).toBe(201);
    const max = String(2 ** 53 - 1);
    const response = await t.send('POST', path, { headers: producer('w', max, '0'), body: 'x' });
    expect(response.status).toBe(200);
    expect(header(response, 'producer-epoch')).toBe(max);
  });

  it.each(['{', '[1,]', 'nul', "'x'", '{"a":1}}', '[1] [2]', '   ', '\u00ff'])('rejects JSON body %j', async (body) => {
    await expectRefused('POST', JSON_STREAM, { headers: JSON_CT, body }, { status: 400, code: 'INVALID_JSON' });
  });

  it.each(['[]', ' [ ] ', '[\n]'])('rejects the empty array %j on append', async (body) => {
    await expectRefused('POST', JSON_STREAM, { headers: JSON_CT, body }, BAD_REQUEST);
  });

  it('rejects an empty append unless Stream-Closed is exactly true', async () => {
    for (const closed of [undefined, 'false', 'yes', '1', '']) {
      const headers: Record<string, string> = closed === undefined ? { ...TEXT } : { ...TEXT, 'stream-closed': closed };
      for (const path of [BYTES, JSON_STREAM]) {
        await expectRefused('POST', path, { headers }, { status: 400, code: 'EMPTY_BODY' });
        await expectRefused('POST', path, { headers, body: '' }, { status: 400, code: 'EMPTY_BODY' });
      }
    }
  });
});

describe('message size limit', () => {
  const TOO_LARGE = { status: 413, code: 'PAYLOAD_TOO_LARGE' };

  it('refuses appends over the configured limit, however they are sent', async () => {
    await expectRefused('POST', BYTES, { headers: TEXT, body: Buffer.alloc(LIMIT + 1, 97) }, TOO_LARGE);
    await expectRefused('POST', BYTES, { headers: TEXT, body: Buffer.alloc(LIMIT * 3, 97), chunked: true }, TOO_LARGE);
    const messages = JSON.stringify(Array.from({ length: LIMIT / 4 }, (_, i) => i * 1000));
    expect(messages.length).toBeGreaterThan(LIMIT);
    await expectRefused('POST', JSON_STREAM, { headers: JSON_CT, body: messages }, TOO_LARGE);
  });

  it('refuses an initial body over the limit without creating the stream', async () => {
    const target = `${PREFIX}bad-input/too-big`;
    await expectRefused('PUT', target, { headers: TEXT, body: Buffer.alloc(LIMIT + 1, 97) }, TOO_LARGE, [target]);
    expect((await t.send('HEAD', target)).status).toBe(404);
  });

  it('accepts a body of exactly the limit', async () => {
    const path = `${PREFIX}bad-input/exact`;
    expect((await t.send('PUT', path, { headers: TEXT })).status).toBe(201);
    const response = await t.send('POST', path, { headers: TEXT, body: Buffer.alloc(LIMIT, 98) });
    expect(response.status).toBe(204);
    expect(header(response, 'stream-next-offset')).toBe(`0000000000000000_${String(LIMIT).padStart(16, '0')}`);
  });

  it('defaults to 1 MiB', async () => {
    expect(defaultConfig.maxMessageBytes).toBe(1024 * 1024);
    const defaults = await startTestServer();
    try {
      const path = `${PREFIX}default-limit`;
      expect((await defaults.send('PUT', path)).status).toBe(201);
      const over = await defaults.send('POST', path, { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(2 ** 20 + 1) });
      expectError(over, 413, 'PAYLOAD_TOO_LARGE');
      expect(header(await defaults.send('HEAD', path), 'stream-next-offset')).toBe('0000000000000000_0000000000000000');
      const exact = await defaults.send('POST', path, { headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(2 ** 20) });
      expect(exact.status).toBe(204);
    } finally {
      await defaults.stop();
    }
  });
});

describe('stream paths', () => {
  const badPaths = [
    'a/../b',
    './a',
    'a/.',
    'a//b',
    'a/',
    '',
    '%2e%2e/b',
    'a/%2E',
    'a%00b',
    'a%01b',
    'a%1Fb',
    'a%7Fb',
    'a%0Ab',
    'a%zzb',
    'a%',
    'a%E0%A4%A',
    'a%C0%AF',
    'a%FF',
  ];
  const methods: [string, RequestOptions][] = [
    ['PUT', { headers: TEXT, body: 'x' }],
    ['POST', { headers: TEXT, body: 'x' }],
    ['GET', {}],
    ['DELETE', {}],
    ['HEAD', {}],
  ];
  // Streams a malformed path could be mistaken for; none may appear.
  const neighbours = ['a', 'b', 'a/b', 'a/', 'ab'].map((p) => PREFIX + p);

  it.each(badPaths)('rejects %j for every method', async (path) => {
    for (const [method, options] of methods) {
      await expectRefused(method, PREFIX + path, options, BAD_REQUEST, [BYTES, ...neighbours]);
    }
  });

  it('limits the decoded path to maxPathLength (1024 by default)', async () => {
    expect(defaultConfig.maxPathLength).toBe(1024);
    const atLimit = PREFIX + 'x'.repeat(1024 - PREFIX.length);
    expect((await t.send('PUT', atLimit, { headers: TEXT })).status).toBe(201);
    const tooLong = { status: 400, code: 'PATH_TOO_LONG' };
    const overLimit = [atLimit + 'y', PREFIX + 'z'.repeat(5000), PREFIX + '%41'.repeat(1100), `${atLimit.slice(0, 600)}/${'q'.repeat(600)}`];
    for (const path of overLimit) {
      for (const [method, options] of methods) await expectRefused(method, path, options, tooLong, [BYTES, atLimit]);
    }
  });
});

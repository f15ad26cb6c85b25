/**
 * Model-based property test: random sequences of create, fork, append, close,
 * read and delete go to a real listening server and to the in-memory model in
 * `stream-model.ts`; every answer (status, error code, Stream-Next-Offset,
 * Stream-Closed, producer headers, bodies) must agree, and after every step so
 * must HEAD on every path.
 *
 * Reproduce a failure with TETHER_PROPERTY_SEED (and TETHER_PROPERTY_PATH) from
 * fast-check's report; TETHER_PROPERTY_RUNS sets how many sequences to try.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatOffset, parseOffset } from '@tether/protocol';
import { errorOf, header, startTestServer, type RawResponse, type TestServer } from './http-harness.js';
import { CONTENT_TYPES, PATH_NAMES, sequenceArbitrary, type BodyChoice, type Command } from './stream-model-commands.js';
import { StreamModel, tailOf, type Expected, type ModelStream } from './stream-model.js';

const RUNS = Number(process.env.TETHER_PROPERTY_RUNS ?? 200);
const SEED = process.env.TETHER_PROPERTY_SEED === undefined ? undefined : Number(process.env.TETHER_PROPERTY_SEED);
const REPLAY_PATH = process.env.TETHER_PROPERTY_PATH;
// Small, so reads are split into many chunks and chunk boundaries get tested.
const MAX_READ_BYTES = 24;

let t: TestServer;
let runs = 0;

beforeAll(async () => {
  // Hundreds of runs of many requests each from one key: the per-key rate limit is
  // not what this test is about, so it is off.
  t = await startTestServer({ maxReadBytes: MAX_READ_BYTES, longPollTimeoutMs: 3000, rateLimitPerSecond: 0 });
});

afterAll(async () => {
  await t?.stop();
});

const offsetHeader = (response: RawResponse) => {
  const value = header(response, 'stream-next-offset');
  return value === undefined ? undefined : (parseOffset(value) ?? `unparseable ${value}`);
};
const isJsonType = (contentType: string | null) => contentType !== null && contentType.startsWith('application/json');

class Runner {
  readonly model = new StreamModel();
  /** Last cacheable answer per read URL, replayed as `If-None-Match` to test 304s. */
  private readonly cache = new Map<string, RawResponse>();

  constructor(private readonly prefix: string) {}

  path(index: number): string {
    return `${this.prefix}/${PATH_NAMES[index]}`;
  }

  private live(path: string): ModelStream | undefined {
    const stream = this.model.streams.get(path);
    return stream && !stream.softDeleted ? stream : undefined;
  }

  private requestType(kind: string, path: string): string | null {
    if (kind === 'none') return null;
    if (kind === 'match') return this.live(path)?.contentType ?? CONTENT_TYPES.bytes;
    return CONTENT_TYPES[kind as keyof typeof CONTENT_TYPES];
  }

  private encode(body: BodyChoice | null, contentType: string | null): Buffer {
    if (!body) return Buffer.alloc(0);
    return isJsonType(contentType) ? Buffer.from(body.json) : Buffer.from(body.bytes);
  }

  private position(choice: { at: number } | 'beyond', tail: number): number {
    return choice === 'beyond' ? tail + 1 : Math.round(choice.at * tail);
  }

  /**
   * Resolves generated path choices against the current state, so most
   * requests meet a stream (or, for a fork's target, a free path) and some
   * go to any path at all.
   */
  resolve(command: Command): Command {
    if (command.op === 'create') return command;
    const indices = [...PATH_NAMES.keys()];
    const pick = (choice: number, wanted: number[]) =>
      wanted.length > 0 && choice % 5 !== 0 ? wanted[choice % wanted.length]! : choice % indices.length;
    const taken = indices.filter((i) => this.model.streams.has(this.path(i)));
    if (command.op !== 'fork') return { ...command, path: pick(command.path, taken) };
    const free = indices.filter((i) => !this.model.streams.has(this.path(i)));
    return { ...command, path: pick(command.path, free), source: pick(command.source, taken) };
  }

  async step(command: Command, label: string): Promise<void> {
    const path = this.path(command.path);
    if (command.op === 'read') return this.read(path, command, label);
    const headers: Record<string, string> = {};
    let response: RawResponse;
    let want: Expected;
    if (command.op === 'delete') {
      response = await t.send('DELETE', path);
      want = this.model.delete(path);
    } else if (command.op === 'append') {
      const contentType = this.requestType(command.kind, path);
      const body = this.encode(command.body, contentType);
      if (contentType !== null) headers['content-type'] = contentType;
      if (command.close) headers['stream-closed'] = 'true';
      if (command.streamSeq !== null) headers['stream-seq'] = command.streamSeq;
      if (command.producer) {
        headers['producer-id'] = command.producer.id;
        headers['producer-epoch'] = String(command.producer.epoch);
        headers['producer-seq'] = String(command.producer.seq);
      }
      response = await t.send('POST', path, { headers, body });
      want = this.model.append(path, { contentType, body, close: command.close, streamSeq: command.streamSeq, producer: command.producer });
    } else {
      const fork = command.op === 'fork' ? command : null;
      const source = fork ? this.path(fork.source) : null;
      const sourceStream = source ? this.live(source) : undefined;
      const contentType = this.requestType(command.kind, source ?? path);
      const body = this.encode(command.body, contentType ?? sourceStream?.contentType ?? null);
      if (contentType !== null) headers['content-type'] = contentType;
      if (command.ttl !== null) headers['stream-ttl'] = String(command.ttl);
      if (command.closed) headers['stream-closed'] = 'true';
      let forkInput = null;
      if (fork && source) {
        headers['stream-forked-from'] = source;
        const offset = fork.offset === null ? null : this.position(fork.offset, sourceStream ? tailOf(sourceStream) : 0);
        if (offset !== null) headers['stream-fork-offset'] = formatOffset(offset);
        if (fork.sub > 0) headers['stream-fork-sub-offset'] = String(fork.sub);
        forkInput = { source, offset, sub: fork.sub };
      }
      response = await t.send('PUT', path, { headers, body });
      want = this.model.create(path, { contentType, ttl: command.ttl, closed: command.closed, body, fork: forkInput });
    }
    compare(label, response, want);
  }

  private async read(path: string, command: Extract<Command, { op: 'read' }>, label: string): Promise<void> {
    const stream = this.model.streams.get(path);
    if (!stream || stream.softDeleted) {
      const response = await t.send('GET', `${path}?offset=-1`);
      compare(label, response, stream ? { status: 410, code: 'STREAM_GONE' } : { status: 404, code: 'STREAM_NOT_FOUND' });
      return;
    }
    const tail = tailOf(stream);
    const choice = command.offset;
    let from: number;
    let query: string;
    if (choice === 'omit' || choice === 'start') [from, query] = [0, choice === 'omit' ? '' : 'offset=-1'];
    else if (choice === 'now') [from, query] = [tail, 'offset=now'];
    else {
      from = this.position(choice, tail);
      query = `offset=${formatOffset(from)}`;
    }
    // Long-poll only where the server must answer at once; waiting is the live tests' business.
    const live = command.live && query !== '' && (from < tail || stream.closed);
    if (from > tail) {
      compare(label, await t.send('GET', `${path}?${query}${live ? '&live=long-poll' : ''}`), { status: 400, code: 'INVALID_OFFSET' });
      return;
    }
    if (choice === 'now' && !live) {
      const response = await t.send('GET', `${path}?offset=now`);
      expect({ label, status: response.status, body: response.body.toString(), next: offsetHeader(response) }).toEqual({
        label,
        status: 200,
        body: stream.json ? '[]' : '',
        next: tail,
      });
      expect({ label, upToDate: header(response, 'stream-up-to-date'), closed: header(response, 'stream-closed') }).toEqual({
        label,
        upToDate: 'true',
        closed: stream.closed ? 'true' : undefined,
      });
      return;
    }
    for (let position = from, first = true; ; first = false) {
      const url = `${path}?${first ? query : `offset=${formatOffset(position)}`}${live ? '&live=long-poll' : ''}`;
      if (live && position === tail) {
        const response = await t.send('GET', url);
        compare(`${label} (long-poll at closed tail)`, response, { status: 204, next: tail, closed: true });
        expect(header(response, 'stream-up-to-date')).toBe('true');
        return;
      }
      const cached = this.cache.get(url);
      const etag = cached && header(cached, 'etag');
      let response = await t.send('GET', url, { headers: etag ? { 'if-none-match': etag } : {} });
      // A 304 vouches that the cached answer is still exactly right.
      if (response.status === 304 && cached) response = cached;
      const next = checkChunk(`${label} chunk from ${position}`, response, stream, position);
      if (header(response, 'etag')) this.cache.set(url, response);
      position = next;
      if (position >= tail) return;
    }
  }

  async checkHeads(label: string): Promise<void> {
    for (const index of PATH_NAMES.keys()) {
      const path = this.path(index);
      const response = await t.send('HEAD', path);
      const want = this.model.head(path);
      compare(`${label}, then HEAD ${PATH_NAMES[index]}`, response, want);
      const stream = this.model.streams.get(path);
      if (want.status === 200 && stream) {
        expect({ path, ttl: header(response, 'stream-ttl') }).toEqual({ path, ttl: stream.ttl === null ? undefined : String(stream.ttl) });
      }
    }
  }
}

/** Compares the fields the model predicts; `closed: false` means the header must be absent. */
function compare(label: string, response: RawResponse, want: Expected): void {
  const got: Record<string, unknown> = { status: response.status };
  const expected: Record<string, unknown> = { status: want.status };
  const add = (key: string, actual: unknown, wanted: unknown) => {
    got[key] = actual;
    expected[key] = wanted;
  };
  if (want.code !== undefined) add('code', errorOf(response)?.code, want.code);
  if (want.next !== undefined) add('next', offsetHeader(response), want.next);
  if (want.closed !== undefined) add('closed', header(response, 'stream-closed') === 'true', want.closed);
  if (want.contentType !== undefined) add('contentType', header(response, 'content-type'), want.contentType);
  if (want.producer !== undefined) {
    const epoch = header(response, 'producer-epoch');
    const seq = header(response, 'producer-seq');
    add('producer', epoch === undefined && seq === undefined ? null : { epoch: Number(epoch), seq: Number(seq) }, want.producer);
  }
  if (want.fencedEpoch !== undefined) add('fencedEpoch', Number(header(response, 'producer-epoch')), want.fencedEpoch);
  if (want.gap !== undefined) {
    const gap = { expected: Number(header(response, 'producer-expected-seq')), received: Number(header(response, 'producer-received-seq')) };
    add('gap', gap, want.gap);
  }
  expect({ step: label, ...got }).toEqual({ step: label, ...expected });
}

/** Checks one catch-up or long-poll chunk against the model; returns where it ends. */
function checkChunk(label: string, response: RawResponse, stream: ModelStream, from: number): number {
  const tail = tailOf(stream);
  const next = offsetHeader(response);
  expect({ label, status: response.status, contentType: header(response, 'content-type') }).toEqual({
    label,
    status: 200,
    contentType: stream.contentType,
  });
  if (typeof next !== 'number' || next < from || next > tail || (next === from && from < tail)) {
    throw new Error(`${label}: Stream-Next-Offset ${String(next)} does not advance within (${from}, ${tail}]`);
  }
  const body = stream.json
    ? `[${stream.messages.slice(from, next).join(',')}]`
    : stream.bytes.subarray(from, next).toString('hex');
  expect({ label, body: stream.json ? response.body.toString('utf8') : response.body.toString('hex') }).toEqual({ label, body });
  expect({
    label,
    upToDate: header(response, 'stream-up-to-date'),
    closed: header(response, 'stream-closed'),
  }).toEqual({ label, upToDate: next === tail ? 'true' : undefined, closed: stream.closed && next === tail ? 'true' : undefined });
  const units = stream.json ? stream.messages.slice(from, next) : [];
  const size = stream.json ? units.reduce((n, m) => n + Buffer.byteLength(m), 0) : next - from;
  // A chunk stays within the read budget unless it is one message larger than the budget.
  if (size > MAX_READ_BYTES) expect({ label, oversized: stream.json && units.length === 1 }).toEqual({ label, oversized: true });
  return next;
}

it('agrees with the in-memory protocol model on random request sequences', { timeout: 240_000 }, async () => {
  const property = fc.asyncProperty(sequenceArbitrary(PATH_NAMES.length), async (commands) => {
    const runner = new Runner(`/v1/stream/model/${runs++}`);
    for (const [index, generated] of commands.entries()) {
      const command = runner.resolve(generated);
      const label = `#${index} ${command.op} ${PATH_NAMES[command.path]}`;
      await runner.step(command, label);
      await runner.checkHeads(label);
    }
  });
  await fc.assert(property, { numRuns: RUNS, seed: SEED, path: REPLAY_PATH, endOnFailure: false });
});

/**
 * Shared plumbing for the storage suite: a fresh store per test from the
 * driver's factory, and request builders with protocol defaults so each test
 * spells out only what it is about.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import { parseBody } from '../../src/storage/stream-rules.js';
import type {
  AppendOutcome,
  AppendRequest,
  CreateOutcome,
  CreateStreamRequest,
  Store,
  StreamMeta,
} from '../../src/storage/types.js';

export type StoreFactory = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

/** A fixed clock origin; every test passes explicit `now` values from here. */
export const T0 = Date.UTC(2030, 0, 1);

export const OCTET = 'application/octet-stream';
export const JSON_TYPE = 'application/json';

export interface Harness {
  /** The store of the running test. */
  readonly store: Store;
}

/** Gives every test its own empty store and disposes of it afterwards. */
export function useStore(factory: StoreFactory): Harness {
  let current: { store: Store; cleanup: () => Promise<void> } | null = null;
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => {
    const done = current;
    current = null;
    await done?.cleanup();
  });
  return {
    get store(): Store {
      if (!current) throw new Error('store used outside a test');
      return current.store;
    },
  };
}

export function createRequest(path: string, over: Partial<CreateStreamRequest> = {}): CreateStreamRequest {
  return {
    path,
    contentType: OCTET,
    ttlSeconds: null,
    expiresAt: null,
    closed: false,
    body: Buffer.alloc(0),
    fork: null,
    now: T0,
    ...over,
  };
}

export interface AppendOptions extends Partial<Omit<AppendRequest, 'body'>> {
  /** Raw body, parsed the way the HTTP layer parses it (JSON flattening included). */
  raw?: string | Buffer;
}

export function appendRequest(path: string, options: AppendOptions = {}): AppendRequest {
  const { raw, ...over } = options;
  const contentType = over.contentType === undefined ? OCTET : over.contentType;
  const data = raw === undefined ? Buffer.alloc(0) : Buffer.from(raw);
  const body = data.length === 0 ? { kind: 'empty' as const } : parseBody(contentType ?? OCTET, data, 'append');
  return { path, contentType, body, close: false, streamSeq: null, producer: null, now: T0, ...over };
}

export async function mustCreate(store: Store, path: string, over: Partial<CreateStreamRequest> = {}): Promise<StreamMeta> {
  const outcome: CreateOutcome = await store.createStream(createRequest(path, over));
  if (outcome.kind !== 'created') throw new Error(`expected created for ${path}, got ${JSON.stringify(outcome)}`);
  return outcome.meta;
}

export async function mustAppend(store: Store, path: string, options: AppendOptions = {}): Promise<StreamMeta> {
  const outcome: AppendOutcome = await store.append(appendRequest(path, options));
  if (outcome.kind !== 'appended') throw new Error(`expected appended for ${path}, got ${JSON.stringify(outcome)}`);
  return outcome.meta;
}

export async function mustFind(store: Store, path: string, now = T0): Promise<StreamMeta> {
  const lookup = await store.lookup(path, now);
  if (lookup.kind !== 'found') throw new Error(`expected ${path} to exist, got ${lookup.kind}`);
  return lookup.meta;
}

/** Everything readable in a stream (inherited data included), in one buffer. */
export async function readAllBytes(store: Store, path: string, now = T0): Promise<string> {
  const meta = await mustFind(store, path, now);
  const result = await store.read(meta, 0, meta.tail, Number.MAX_SAFE_INTEGER);
  expect(result.next).toBe(meta.tail);
  return Buffer.concat(result.items).toString('utf8');
}

/** Every message of a JSON stream, as the exact stored texts. */
export async function readAllMessages(store: Store, path: string, from = 0, now = T0): Promise<string[]> {
  const meta = await mustFind(store, path, now);
  const result = await store.read(meta, from, meta.tail, Number.MAX_SAFE_INTEGER);
  expect(result.next).toBe(meta.tail);
  return result.items.map((item) => item.toString('utf8'));
}

/** Reads `[from, to)` in chunks of at most `maxBytes`, checking each chunk makes progress. */
export async function readChunked(store: Store, meta: StreamMeta, from: number, to: number, maxBytes: number) {
  const chunks: Buffer[][] = [];
  let position = from;
  while (position < to) {
    const result = await store.read(meta, position, to, maxBytes);
    expect(result.items.length).toBeGreaterThan(0);
    expect(result.next).toBeGreaterThan(position);
    expect(result.next).toBeLessThanOrEqual(to);
    chunks.push(result.items);
    position = result.next;
  }
  return chunks;
}

/**
 * `count` distinct JSON messages of uneven sizes whose texts hold what a
 * split of joined messages must not cut at: commas, brackets and escaped
 * quotes inside strings, nested values, and multi-byte characters.
 */
export function jsonMessages(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({ i, text: `a,b]}"\\,[${'é'.repeat(i % 5)}`, list: [i % 3, { pad: 'x'.repeat((i * 37) % 90) }] }),
  );
}

/**
 * Reads `[from, to)` of a JSON stream holding `messages` in chunks of at most
 * `maxBytes` and checks that each chunk is what the budget rule gives: the
 * next message whatever its size, then every following one while the chunk's
 * bytes stay within the budget.
 */
export async function expectJsonChunks(
  store: Store,
  meta: StreamMeta,
  messages: string[],
  from: number,
  to: number,
  maxBytes: number,
): Promise<void> {
  const chunks = await readChunked(store, meta, from, to, maxBytes);
  const expected: string[][] = [];
  for (let i = from; i < to; ) {
    const chunk = [messages[i]!];
    let bytes = Buffer.byteLength(messages[i]!);
    for (i++; i < to && bytes + Buffer.byteLength(messages[i]!) <= maxBytes; i++) {
      bytes += Buffer.byteLength(messages[i]!);
      chunk.push(messages[i]!);
    }
    expected.push(chunk);
  }
  expect(chunks.map((chunk) => chunk.map(String))).toEqual(expected);
}

/**
 * Random protocol requests for the model test. Commands are plain data so
 * fast-check can shrink a failing sequence and print it; anything that
 * depends on the current state (the stream's content type, its tail) is
 * chosen as a fraction or a "match" and resolved when the command runs.
 */
import fc from 'fast-check';
import type { Tuple } from './stream-model.js';

export const PATH_NAMES = ['s0', 's1', 'dir/s2', 'dir/f3', 'f4'] as const;
/** The first paths get streams up front; the rest are mostly fork targets. */
const SETUP_PATHS = 3;

export const CONTENT_TYPES = {
  bytes: 'application/octet-stream',
  text: 'text/plain',
  json: 'application/json',
} as const;
export type StreamKind = keyof typeof CONTENT_TYPES;

/** A body in both shapes; the runner sends the JSON one when the request says JSON. */
export interface BodyChoice {
  bytes: Uint8Array;
  json: string;
}

/** Where to read or fork from: a fraction of the tail, or a sentinel. */
export type OffsetChoice = { at: number } | 'beyond';

/**
 * Except for `create`, `path` (and a fork's `source`) is a raw choice the
 * runner maps onto a path when the command runs, preferring paths that hold a
 * stream (or, for a fork's target, a free one).
 */
export type Command =
  | { op: 'create'; path: number; kind: StreamKind | 'none'; ttl: number | null; closed: boolean; body: BodyChoice | null }
  | {
      op: 'fork';
      path: number;
      source: number;
      offset: OffsetChoice | null;
      sub: number;
      kind: StreamKind | 'none' | 'match';
      ttl: number | null;
      closed: boolean;
      body: BodyChoice | null;
    }
  | {
      op: 'append';
      path: number;
      kind: StreamKind | 'none' | 'match';
      body: BodyChoice | null;
      close: boolean;
      streamSeq: string | null;
      producer: Tuple | null;
    }
  | { op: 'delete'; path: number }
  | { op: 'read'; path: number; offset: OffsetChoice | 'omit' | 'start' | 'now'; live: boolean };

const jsonScalar = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6, unit: 'binary' }),
  // Strings full of the characters a naive array splitter trips over.
  fc.string({ maxLength: 6, unit: fc.constantFrom('[', ']', '{', '}', ',', '"', '\\', ' ', 'x') }),
  fc.boolean(),
  fc.constant(null),
);
const jsonValue = fc.oneof(
  { weight: 4, arbitrary: jsonScalar },
  { weight: 1, arbitrary: fc.array(jsonScalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), jsonScalar, { maxKeys: 2 }) },
);

/** Canonical JSON text: `JSON.stringify` output, with optional whitespace between top-level elements. */
const jsonBody: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.array(jsonValue, { minLength: 1, maxLength: 4 }), fc.constantFrom(',', ' , ', ',\n\t'))
      .map(([values, sep]) => `[${values.map((v) => JSON.stringify(v)).join(sep)}]`),
  },
  { weight: 3, arbitrary: fc.tuple(jsonValue, fc.constantFrom('', ' ', '\n')).map(([v, pad]) => pad + JSON.stringify(v) + pad) },
  { weight: 1, arbitrary: fc.constantFrom('{', '[1,]', 'nul', '[]', ' [ ] ', '"unterminated', '[1] 2') },
);

const body: fc.Arbitrary<BodyChoice> = fc.record({
  bytes: fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }) },
    // Look-alike bodies: a re-created stream with same-sized, different data
    // is where a stale ETag or cache would show.
    { weight: 1, arbitrary: fc.constantFrom('a', 'b').map((text) => new Uint8Array(Buffer.from(text))) },
  ),
  json: jsonBody,
});

const maybeBody = fc.option(body, { freq: 2 });
const kind = fc.constantFrom<StreamKind>('bytes', 'text', 'json');
const ttl = fc.constantFrom(null, null, null, 3600, 7200);
const offset: fc.Arbitrary<OffsetChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((at) => ({ at })) },
  { weight: 1, arbitrary: fc.constant('beyond' as const) },
);
const producer: fc.Arbitrary<Tuple> = fc.record({
  id: fc.constantFrom('p', 'q'),
  epoch: fc.integer({ min: 0, max: 2 }),
  seq: fc.integer({ min: 0, max: 3 }),
});

function createArbitrary(path: fc.Arbitrary<number>) {
  return fc.record({
    op: fc.constant('create' as const),
    path,
    kind: fc.oneof(kind, fc.constant('none' as const)),
    ttl,
    closed: fc.constantFrom(false, false, false, false, true),
    body: maybeBody,
  });
}

/**
 * A sequence that starts by creating a few streams (so most later requests
 * meet an existing stream), then mixes every kind of request.
 */
export function sequenceArbitrary(paths: number): fc.Arbitrary<Command[]> {
  const setup = fc.array(createArbitrary(fc.nat({ max: SETUP_PATHS - 1 })), { minLength: 1, maxLength: SETUP_PATHS });
  const steps = fc.array(commandArbitrary(paths), { minLength: 1, maxLength: 40, size: 'max' });
  return fc.tuple(setup, steps).map(([first, rest]) => [...first, ...rest]);
}

export function commandArbitrary(paths: number): fc.Arbitrary<Command> {
  const path = fc.nat({ max: 99 });
  return fc.oneof(
    { weight: 2, arbitrary: createArbitrary(fc.nat({ max: paths - 1 })) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('fork' as const),
        path,
        source: path,
        offset: fc.option(offset, { freq: 3 }),
        sub: fc.constantFrom(0, 0, 1, 3),
        kind: fc.constantFrom('none', 'none', 'match', 'bytes', 'json') as fc.Arbitrary<StreamKind | 'none' | 'match'>,
        ttl,
        closed: fc.constantFrom(false, false, false, true),
        body: fc.option(body, { freq: 4 }),
      }),
    },
    {
      weight: 8,
      arbitrary: fc.record({
        op: fc.constant('append' as const),
        path,
        kind: fc.constantFrom('match', 'match', 'match', 'match', 'none', 'bytes', 'text', 'json') as fc.Arbitrary<
          StreamKind | 'none' | 'match'
        >,
        body: fc.option(body, { freq: 6 }),
        close: fc.constantFrom(false, false, false, false, true),
        streamSeq: fc.constantFrom(null, null, null, 'a', 'b', 'c'),
        producer: fc.option(producer, { freq: 2 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('read' as const),
        path,
        offset: fc.oneof(
          { weight: 2, arbitrary: fc.constantFrom('omit' as const, 'start' as const, 'now' as const) },
          { weight: 3, arbitrary: offset },
        ),
        live: fc.boolean(),
      }),
    },
  );
}

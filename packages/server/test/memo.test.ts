import { describe, expect, it } from 'vitest';
import { memoized } from '../src/memo.js';
import { decodeStreamPath } from '../src/http/stream-paths.js';
import { AppError } from '../src/errors.js';

describe('memoized', () => {
  it('computes each argument once while it is kept', () => {
    const calls: string[] = [];
    const upper = memoized((s: string) => {
      calls.push(s);
      return s.toUpperCase();
    }, 3);
    expect([upper('a'), upper('b'), upper('a'), upper('b')]).toEqual(['A', 'B', 'A', 'B']);
    expect(calls).toEqual(['a', 'b']);
  });

  it('drops everything at its capacity, and never keeps long arguments', () => {
    const calls: string[] = [];
    const same = memoized((s: string) => {
      calls.push(s);
      return s;
    }, 2, 4);
    same('a');
    same('b');
    same('c'); // full: drops a and b, keeps c
    same('c');
    same('a');
    same('long!');
    same('long!');
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'long!', 'long!']);
  });

  it('keeps nothing from a call that throws', () => {
    let fail = true;
    const flaky = memoized((s: string) => {
      if (fail) throw new Error('no');
      return s.length;
    }, 8);
    expect(() => flaky('abc')).toThrow('no');
    fail = false;
    expect(flaky('abc')).toBe(3);
  });
});

describe('stream paths, decoded once and checked every time', () => {
  const code = (raw: string, max = 64) => {
    try {
      decodeStreamPath(raw, max);
      return null;
    } catch (error) {
      return (error as AppError).code;
    }
  };

  it('answers a repeated path the same way, its errors included', () => {
    for (let i = 0; i < 2; i++) {
      expect(decodeStreamPath('/v1/stream/a%20b/c', 64)).toBe('/v1/stream/a b/c');
      expect(code('/v1/stream/a/../b')).toBe('BAD_REQUEST');
      expect(code('/v1/stream/a%zz')).toBe('BAD_REQUEST');
    }
  });

  it('checks the length limit of each call, before the name', () => {
    const long = `/v1/stream/${'x'.repeat(40)}/..`;
    expect(code(long, 100)).toBe('BAD_REQUEST');
    expect(code(long, 20)).toBe('PATH_TOO_LONG');
    expect(decodeStreamPath('/v1/stream/abc', 100)).toBe('/v1/stream/abc');
    expect(code('/v1/stream/abc', 12)).toBe('PATH_TOO_LONG');
  });
});

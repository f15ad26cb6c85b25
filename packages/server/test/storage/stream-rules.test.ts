import { describe, expect, it } from 'vitest';
import { splitJoinedMessages } from '../../src/storage/stream-rules.js';

const split = (text: string | Buffer) => splitJoinedMessages(Buffer.isBuffer(text) ? text : Buffer.from(text)).map(String);

describe('splitJoinedMessages', () => {
  it('splits at the commas between messages only', () => {
    expect(split('1,"a,b",{"x":[1,2],"y":{"z":","}},[3,[4,5]],null')).toEqual(['1', '"a,b"', '{"x":[1,2],"y":{"z":","}}', '[3,[4,5]]', 'null']);
  });

  it('keeps escaped quotes and backslashes inside strings', () => {
    const messages = [JSON.stringify('say "hi", then ]'), JSON.stringify('ends in \\'), JSON.stringify({ k: '\\",[' }), '2'];
    expect(split(messages.join(','))).toEqual(messages);
  });

  it('returns one message, or none for nothing', () => {
    expect(split('{"a":1}')).toEqual(['{"a":1}']);
    expect(split('')).toEqual([]);
  });

  it('keeps every byte of each message, multi-byte and invalid UTF-8 alike', () => {
    const odd = Buffer.concat([Buffer.from('"'), Buffer.from([0xc3, 0xa9, 0xff, 0x2c, 0xe2]), Buffer.from('"')]);
    const joined = Buffer.concat([Buffer.from('"é,ü"'), Buffer.from(','), odd, Buffer.from(',7')]);
    const parts = splitJoinedMessages(joined);
    expect(parts).toHaveLength(3);
    expect(parts[0]!.equals(Buffer.from('"é,ü"'))).toBe(true);
    expect(parts[1]!.equals(odd)).toBe(true);
    expect(parts[2]!.toString()).toBe('7');
  });
});

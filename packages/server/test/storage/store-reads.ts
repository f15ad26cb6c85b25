import { describe, expect, it } from 'vitest';
import { JSON_TYPE, expectJsonChunks, jsonMessages, mustAppend, mustCreate, mustFind, readChunked, type Harness } from './store-harness.js';

const text = (items: Buffer[]) => Buffer.concat(items).toString('utf8');

export function readTests(h: Harness): void {
  describe('reads', () => {
    it('returns exactly the requested range, across row boundaries', async () => {
      await mustCreate(h.store, '/s');
      for (const piece of ['0123', '4567', '89']) await mustAppend(h.store, '/s', { raw: piece });
      const meta = await mustFind(h.store, '/s');
      const cases: [number, number, string][] = [
        [0, 10, '0123456789'],
        [2, 6, '2345'],
        [4, 8, '4567'],
        [5, 5, ''],
        [9, 10, '9'],
      ];
      for (const [from, to, expected] of cases) {
        const result = await h.store.read(meta, from, to, 1 << 20);
        expect(text(result.items)).toBe(expected);
        expect(result.next).toBe(Math.max(from, to));
      }
      const atTail = await h.store.read(meta, 10, 10, 1 << 20);
      expect(atTail).toEqual({ items: [], next: 10 });
    });

    it('chunks byte reads by maxBytes, splitting rows, and loses nothing', async () => {
      await mustCreate(h.store, '/s');
      const pieces = ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'dddddddddd'];
      for (const piece of pieces) await mustAppend(h.store, '/s', { raw: piece });
      const meta = await mustFind(h.store, '/s');
      const chunks = await readChunked(h.store, meta, 3, meta.tail, 15);
      for (const chunk of chunks) expect(Buffer.concat(chunk).length).toBeLessThanOrEqual(15);
      expect(chunks.map(text).join('')).toBe(pieces.join('').slice(3));
      expect(chunks.length).toBe(3);
    });

    it('splits one large byte row across many reads', async () => {
      const big = Buffer.alloc(100_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
      await mustCreate(h.store, '/big');
      await mustAppend(h.store, '/big', { raw: big });
      const meta = await mustFind(h.store, '/big');
      const chunks = await readChunked(h.store, meta, 0, meta.tail, 4096);
      expect(chunks.length).toBe(Math.ceil(big.length / 4096));
      for (const chunk of chunks) expect(Buffer.concat(chunk).length).toBeLessThanOrEqual(4096);
      expect(Buffer.concat(chunks.flat()).equals(big)).toBe(true);
    });

    it('returns whole JSON messages, at least one per read, never split', async () => {
      await mustCreate(h.store, '/j', { contentType: JSON_TYPE });
      const messages = Array.from({ length: 12 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i * 3) }));
      await mustAppend(h.store, '/j', { contentType: JSON_TYPE, raw: `[${messages.join(',')}]` });
      const meta = await mustFind(h.store, '/j');
      expect(meta.tail).toBe(12);
      const chunks = await readChunked(h.store, meta, 1, meta.tail, 40);
      const seen = chunks.flat().map((item) => item.toString('utf8'));
      expect(seen).toEqual(messages.slice(1));
      for (const chunk of chunks) {
        const size = chunk.reduce((n, item) => n + item.length, 0);
        // Over budget only when a single message is bigger than the budget.
        if (size > 40) expect(chunk.length).toBe(1);
      }
      const tiny = await h.store.read(meta, 11, 12, 1);
      expect(tiny.items.map(String)).toEqual([messages[11]]);
      expect(tiny.next).toBe(12);
    });

    it('reads long JSON streams in bulk, joined, cut by the byte budget as message by message', async () => {
      const messages = jsonMessages(20_000);
      await mustCreate(h.store, '/long', { contentType: JSON_TYPE });
      for (let i = 0; i < messages.length; i += 5000) {
        await mustAppend(h.store, '/long', { contentType: JSON_TYPE, raw: `[${messages.slice(i, i + 5000).join(',')}]` });
      }
      const meta = await mustFind(h.store, '/long');
      const whole = await h.store.read(meta, 0, meta.tail, Number.MAX_SAFE_INTEGER);
      expect(whole.next).toBe(20_000);
      expect(whole.joined?.toString('utf8')).toBe(messages.join(','));
      expect(whole.items.map(String)).toEqual(messages);
      // Large budgets cut runs in proportion; small ones leave the last messages to the rows.
      await expectJsonChunks(h.store, meta, messages, 3, meta.tail, 1 << 20);
      await expectJsonChunks(h.store, meta, messages, 7, 15_000, 100_000);
      await expectJsonChunks(h.store, meta, messages, 9_000, 9_300, 150);
      await expectJsonChunks(h.store, meta, messages, 9_000, 9_040, 1);
    });

    it('reads a range in the middle of a JSON stream by message position', async () => {
      await mustCreate(h.store, '/j', { contentType: JSON_TYPE, body: Buffer.from('[1,2,3]') });
      await mustAppend(h.store, '/j', { contentType: JSON_TYPE, raw: '[4,5]' });
      const meta = await mustFind(h.store, '/j');
      const result = await h.store.read(meta, 2, 4, 1 << 20);
      expect(result.items.map(String)).toEqual(['3', '4']);
      expect(result.next).toBe(4);
    });
  });
}

import { describe, expect, it } from 'vitest';
import { JSON_TYPE, T0, appendRequest, createRequest, mustCreate, mustFind, readAllMessages, type Harness } from './store-harness.js';

const WRITERS = 200;

export function concurrencyTests(h: Harness): void {
  describe('concurrency', () => {
    it('keeps every one of many concurrent byte appends exactly once, at the offset it acknowledged', async () => {
      await mustCreate(h.store, '/s');
      // Fixed-width records, so an acknowledged tail names exactly one record.
      const records = Array.from({ length: WRITERS }, (_, i) => `<${String(i).padStart(6, '0')}>`);
      const width = records[0]!.length;
      const outcomes = await Promise.all(records.map((raw) => h.store.append(appendRequest('/s', { raw }))));
      const meta = await mustFind(h.store, '/s');
      expect(meta.tail).toBe(WRITERS * width);
      const all = Buffer.concat((await h.store.read(meta, 0, meta.tail, Number.MAX_SAFE_INTEGER)).items).toString();
      const tails = outcomes.map((outcome, i) => {
        if (outcome.kind !== 'appended') throw new Error(`append ${i}: ${outcome.kind}`);
        expect(all.slice(outcome.meta.tail - width, outcome.meta.tail)).toBe(records[i]);
        return outcome.meta.tail;
      });
      expect([...tails].sort((a, b) => a - b)).toEqual(records.map((_, i) => (i + 1) * width));
      const stored = all.match(/<\d{6}>/g) ?? [];
      expect(stored.length).toBe(WRITERS);
      expect(new Set(stored).size).toBe(WRITERS);
    });

    it('gives concurrent JSON batches contiguous message positions', async () => {
      await mustCreate(h.store, '/j', { contentType: JSON_TYPE });
      const batches = Array.from({ length: 50 }, (_, i) => [i * 3, i * 3 + 1, i * 3 + 2]);
      const outcomes = await Promise.all(
        batches.map((batch) => h.store.append(appendRequest('/j', { contentType: JSON_TYPE, raw: JSON.stringify(batch) }))),
      );
      const messages = (await readAllMessages(h.store, '/j')).map(Number);
      expect(messages.length).toBe(150);
      outcomes.forEach((outcome, i) => {
        if (outcome.kind !== 'appended') throw new Error(`batch ${i}: ${outcome.kind}`);
        // A batch's messages sit together, ending at the position it acknowledged.
        expect(messages.slice(outcome.meta.tail - 3, outcome.meta.tail)).toEqual(batches[i]);
      });
      expect([...messages].sort((a, b) => a - b)).toEqual(batches.flat());
    });

    it('lets exactly one of many concurrent identical creates create the stream', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => h.store.createStream(createRequest('/once', { body: Buffer.from('x') }))),
      );
      expect(outcomes.filter((o) => o.kind === 'created').length).toBe(1);
      expect(outcomes.filter((o) => o.kind === 'exists').length).toBe(19);
      expect(new Set(outcomes.map((o) => ('meta' in o ? o.meta.id : -1))).size).toBe(1);
      expect((await mustFind(h.store, '/once')).tail).toBe(1);
    });

    it('accepts a concurrent stream of closes and appends without losing the closing data', async () => {
      await mustCreate(h.store, '/s');
      const appends = Array.from({ length: 30 }, (_, i) => h.store.append(appendRequest('/s', { raw: `[${i}]` })));
      const closer = h.store.append(appendRequest('/s', { raw: '<end>', close: true, now: T0 }));
      const outcomes = await Promise.all([...appends, closer]);
      const closing = outcomes[outcomes.length - 1]!;
      expect(closing).toMatchObject({ kind: 'appended', meta: { closed: true } });
      const meta = await mustFind(h.store, '/s');
      expect(meta.closed).toBe(true);
      const all = Buffer.concat((await h.store.read(meta, 0, meta.tail, Number.MAX_SAFE_INTEGER)).items).toString();
      expect(all.endsWith('<end>')).toBe(true);
      // Each append either landed before the close or was refused because of it.
      for (const [i, outcome] of outcomes.slice(0, -1).entries()) {
        expect(['appended', 'stream-closed']).toContain(outcome.kind);
        expect(all.includes(`[${i}]`)).toBe(outcome.kind === 'appended');
      }
    });

    it('keeps concurrent writers to different streams apart', async () => {
      const paths = Array.from({ length: 10 }, (_, i) => `/p/${i}`);
      await Promise.all(paths.map((path) => h.store.createStream(createRequest(path))));
      await Promise.all(
        paths.flatMap((path, i) => Array.from({ length: 10 }, () => h.store.append(appendRequest(path, { raw: String(i) })))),
      );
      for (const [i, path] of paths.entries()) {
        const meta = await mustFind(h.store, path);
        const content = Buffer.concat((await h.store.read(meta, 0, meta.tail, 1 << 20)).items).toString();
        expect(content).toBe(String(i).repeat(10));
      }
    });
  });
}

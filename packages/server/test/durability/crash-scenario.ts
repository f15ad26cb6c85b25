/**
 * Kill -9 while many writers append, restart on the same data, and check that
 * every acknowledged append survived where it was acknowledged. Written once
 * and run against each store by passing the server arguments that select it.
 */
import { expect } from 'vitest';
import { formatOffset, parseOffset } from '@tether/protocol';
import { startServerProcess } from '../support/server-process.js';

export interface CrashScenarioOptions {
  /** Arguments that select the store, e.g. `['--data-dir', dir]`. */
  serverArgs: string[];
  writers: number;
  /** How long writers append before the server is killed. */
  appendForMs: number;
}

interface Ack {
  writer: number;
  seq: number;
  /** Position of the message: the acknowledged next offset minus one. */
  position: number;
}

const STREAM = '/v1/stream/crash-test';

async function appendUntilKilled(url: string, auth: Record<string, string>, writer: number, acks: Ack[], lastAcked: Map<number, number>) {
  for (let seq = 0; ; seq++) {
    let res: Response;
    try {
      res = await fetch(url + STREAM, {
        method: 'POST',
        headers: { ...auth,
          'content-type': 'application/json',
          'producer-id': `writer-${writer}`,
          'producer-epoch': '0',
          'producer-seq': String(seq),
        },
        body: JSON.stringify({ writer, seq, pad: 'x'.repeat(64) }),
      });
    } catch {
      return; // the server is gone; this append was never acknowledged
    }
    if (res.status !== 200) throw new Error(`writer ${writer} seq ${seq}: unexpected ${res.status}`);
    const next = parseOffset(res.headers.get('stream-next-offset') ?? '');
    if (next === null) throw new Error('acknowledged append without a valid Stream-Next-Offset');
    acks.push({ writer, seq, position: next - 1 });
    lastAcked.set(writer, seq);
  }
}

async function readAll(url: string, auth: Record<string, string>): Promise<{ writer: number; seq: number }[]> {
  const messages: { writer: number; seq: number }[] = [];
  let offset = '-1';
  for (;;) {
    const res = await fetch(`${url}${STREAM}?offset=${offset}`, { headers: auth });
    expect(res.status).toBe(200);
    messages.push(...((await res.json()) as { writer: number; seq: number }[]));
    offset = res.headers.get('stream-next-offset')!;
    if (res.headers.get('stream-up-to-date') === 'true') return messages;
  }
}

export async function runCrashScenario(options: CrashScenarioOptions): Promise<{ acknowledged: number; stored: number }> {
  const first = await startServerProcess(options.serverArgs);
  // Made on the first start, kept in the store: good after the crash too.
  const auth = { authorization: `Bearer ${first.adminKey!}` };
  const created = await fetch(first.url + STREAM, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' } });
  expect(created.status).toBe(201);

  const acks: Ack[] = [];
  const lastAcked = new Map<number, number>();
  const writers = Array.from({ length: options.writers }, (_, w) => appendUntilKilled(first.url, auth, w, acks, lastAcked));
  await new Promise((resolve) => setTimeout(resolve, options.appendForMs));
  await first.stop('SIGKILL');
  await Promise.all(writers);
  expect(acks.length).toBeGreaterThan(options.writers * 5);

  const second = await startServerProcess(options.serverArgs);
  try {
    const stored = await readAll(second.url, auth);

    // Every acknowledged message is at the position it was acknowledged with.
    for (const ack of acks) {
      const message = stored[ack.position];
      expect({ writer: message?.writer, seq: message?.seq }, `ack ${ack.writer}/${ack.seq}`).toEqual({
        writer: ack.writer,
        seq: ack.seq,
      });
    }
    // Nothing duplicated, and each writer's messages are gap-free and in order.
    const seen = new Map<number, number>();
    for (const message of stored) {
      const expected = (seen.get(message.writer) ?? -1) + 1;
      expect(message.seq, `writer ${message.writer}`).toBe(expected);
      seen.set(message.writer, message.seq);
    }
    // Offsets handed out are strictly increasing per writer (and so globally unique).
    const positions = acks.map((a) => a.position).sort((a, b) => a - b);
    expect(new Set(positions).size).toBe(positions.length);

    // A producer retrying its last acknowledged append after the restart is told it is a duplicate.
    for (const [writer, seq] of lastAcked) {
      const retry = await fetch(second.url + STREAM, {
        method: 'POST',
        headers: { ...auth,
          'content-type': 'application/json',
          'producer-id': `writer-${writer}`,
          'producer-epoch': '0',
          'producer-seq': String(seq),
        },
        body: JSON.stringify({ writer, seq, pad: 'x'.repeat(64) }),
      });
      expect(retry.status, `retry of writer ${writer} seq ${seq}`).toBe(204);
    }
    const tail = await fetch(second.url + STREAM, { headers: auth, method: 'HEAD' });
    expect(tail.headers.get('stream-next-offset')).toBe(formatOffset(stored.length));
    return { acknowledged: acks.length, stored: stored.length };
  } finally {
    await second.stop('SIGTERM');
  }
}

/**
 * The SDK and the stock Durable Streams client on the same streams: each
 * writes what the other reads, and each resumes from offsets the other handed out.
 */
import { DurableStream, stream } from '@durable-streams/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TetherClient } from '../src/index.js';
import { startTestServer, unique, type TestServer } from './support.js';

let server: TestServer;
let client: TetherClient;

beforeAll(async () => {
  server = await startTestServer();
  client = createClient({ url: server.url, apiKey: server.key });
});
afterAll(() => server?.stop());

/** The stock client sends our API key as any header. */
const auth = () => ({ authorization: `Bearer ${server.key}` });

describe('interoperability with @durable-streams/client', () => {
  it('on a session channel: SDK writes, stock client reads; stock client writes, SDK reads live', async () => {
    const { session } = await client.sessions.create();
    const handle = client.session(session.id);
    const url = server.url + session.channels.out.url;

    await handle.out.send({ type: 'message', role: 'assistant', text: 'from the sdk 1' });
    const second = await handle.out.send({ type: 'message', role: 'assistant', text: 'from the sdk 2' });
    const read = await stream<{ text: string }>({ url, headers: auth(), offset: '-1', live: false, json: true });
    expect((await read.json()).map((e) => e.text)).toEqual(['from the sdk 1', 'from the sdk 2']);
    expect(read.offset).toBe(second.offset);

    // The SDK follows live from the offset the stock client ended on.
    const stop = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const entry of handle.out.subscribe({ from: read.offset, signal: stop.signal })) {
        seen.push(entry.event.text as string);
        if (seen.length === 2) stop.abort();
      }
    })();
    const writer = new DurableStream({ url, contentType: 'application/json', headers: auth() });
    await writer.append(JSON.stringify({ type: 'message', role: 'assistant', text: 'from stock 1' }));
    await writer.append(JSON.stringify({ type: 'message', role: 'assistant', text: 'from stock 2' }));
    await following;
    expect(seen).toEqual(['from stock 1', 'from stock 2']);

    // The server validates the stock client's events like anyone's.
    await expect(writer.append(JSON.stringify({ type: 'message.delta' }))).rejects.toThrow();

    // The stock client resumes from an offset the SDK handed out.
    const entries = (await handle.out.read()).entries;
    expect(entries.map((e) => e.event.text)).toEqual(['from the sdk 1', 'from the sdk 2', 'from stock 1', 'from stock 2']);
    const resumed = await stream<{ text: string }>({ url, headers: auth(), offset: entries[1]!.offset, live: false, json: true });
    expect((await resumed.json()).map((e) => e.text)).toEqual(['from stock 1', 'from stock 2']);
  });

  it('on a raw stream: both directions, live, until the stock client closes it', async () => {
    const path = `/v1/stream/interop/${unique()}`;
    const url = server.url + path;
    const channel = await client.createStream(path);
    const stock = new DurableStream({ url, contentType: 'application/json', headers: auth() });

    const live = await stream<{ n: number; by: string }>({ url, headers: auth(), offset: '-1', live: 'sse', json: true });
    const stockSeen: string[] = [];
    const stockReading = (async () => {
      for await (const item of live.jsonStream()) stockSeen.push(`${item.by}${item.n}`);
    })();
    const sdkSeen: string[] = [];
    const sdkReading = (async () => {
      for await (const entry of channel.subscribe()) sdkSeen.push(`${entry.event.by}${entry.event.n}`);
    })();

    await channel.send({ type: 'x', by: 'sdk', n: 1 });
    await stock.append(JSON.stringify({ type: 'x', by: 'stock', n: 2 }));
    await channel.send([{ type: 'x', by: 'sdk', n: 3 }, { type: 'x', by: 'sdk', n: 4 }]);
    await stock.append(JSON.stringify({ type: 'x', by: 'stock', n: 5 }));
    await stock.close();
    await Promise.all([stockReading, sdkReading]);

    const expected = ['sdk1', 'stock2', 'sdk3', 'sdk4', 'stock5'];
    expect(stockSeen).toEqual(expected);
    expect(sdkSeen).toEqual(expected);
    const tail = await channel.tail();
    expect(tail.closed).toBe(true);
    expect(tail.offset).toBe(live.offset);
  });
});

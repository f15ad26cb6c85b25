import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNotifier } from '../../src/services/live-hub.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { adminKeyOf } from '../support/credentials.js';
import { readChunks } from '../http/wire-client.js';

describe('LocalNotifier', () => {
  it('wakes the listeners of the changed stream only', () => {
    const notifier = new LocalNotifier();
    const woken: number[] = [];
    const unsubscribe = Array.from({ length: 1000 }, (_, id) => notifier.subscribe(id, () => woken.push(id)));
    notifier.publish({ streamId: 417, tail: 1, closed: false, deleted: false });
    expect(woken).toEqual([417]);
    unsubscribe.forEach((u) => u());
    expect(notifier.watchedStreams).toBe(0);
  });
});

describe('live delivery over HTTP', () => {
  let server: RunningServer;
  let auth: Record<string, string>;
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-live-'));

  beforeAll(async () => {
    server = await startServer({ port: 0, dataDir, logLevel: 'silent', longPollTimeoutMs: 1500, sseKeepAliveMs: 200 });
    auth = { authorization: `Bearer ${await adminKeyOf(server)}` };
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const put = (path: string, type = 'application/json') =>
    fetch(`${server.url}/v1/stream/${path}`, { method: 'PUT', headers: { ...auth, 'content-type': type } });
  const post = (path: string, body: string | Buffer, type = 'application/json') =>
    fetch(`${server.url}/v1/stream/${path}`, { method: 'POST', headers: { ...auth, 'content-type': type }, body });

  it('an append wakes long-polls on that stream and not on others', async () => {
    await put('wake-a');
    await put('wake-b');
    const started = Date.now();
    const pollA = fetch(`${server.url}/v1/stream/wake-a?offset=now&live=long-poll`, { headers: auth });
    const pollB = fetch(`${server.url}/v1/stream/wake-b?offset=now&live=long-poll`, { headers: auth }).then((r) => ({ r, at: Date.now() }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await post('wake-a', '{"n":1}');
    const a = await pollA;
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual([{ n: 1 }]);
    expect(Date.now() - started).toBeLessThan(1000);
    const b = await pollB;
    expect(b.r.status).toBe(204);
    expect(b.at - started).toBeGreaterThanOrEqual(1400);
  });

  it('sends SSE keep-alive comments while a stream is idle', async () => {
    await put('idle');
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/stream/idle?offset=now&live=sse`, { headers: auth, signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 2000;
    while (!text.includes(': keep-alive') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    controller.abort();
    expect(text).toContain('"upToDate":true');
    expect(text).toContain(': keep-alive');
  });

  it('writes each SSE data event and its control event as one chunk of the response', async () => {
    await put('paired');
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let raw = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => (raw = Buffer.concat([raw, data])));
    socket.write(`GET /v1/stream/paired?offset=-1&live=sse HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\n\r\n`);
    const chunks = () => readChunks(raw, raw.indexOf('\r\n\r\n') + 4).chunks.map((chunk) => chunk.toString('utf8'));
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 2000;
      while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(() => chunks().some((c) => c.includes('upToDate')));
    for (let n = 1; n <= 3; n++) expect((await post('paired', `{"n":${n}}`)).status).toBe(204);
    await until(() => chunks().filter((c) => c.includes('event: data')).length === 3);
    socket.destroy();
    const withData = chunks().filter((c) => c.includes('event: data'));
    expect(withData).toHaveLength(3);
    withData.forEach((chunk, i) => {
      expect(chunk).toMatch(new RegExp(`^event: data\\ndata:\\[\\{"n":${i + 1}\\}\\]\\n\\nevent: control\\ndata:\\{[^\\n]*\\}\\n\\n$`));
    });
  });

  it('does not buffer without bound for an SSE reader that never reads', async () => {
    await put('flood', 'application/octet-stream');
    // A raw socket that requests SSE and then never reads from the connection.
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /v1/stream/flood?offset=-1&live=sse HTTP/1.1\r\nHost: x\r\n\r\n`);
    socket.pause();
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 48; i++) expect((await post('flood', chunk, 'application/octet-stream')).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // 48 MiB appended; the server holds at most about one read chunk for this reader.
    const buffered = server.tether.live.bufferedBytes();
    expect(buffered).toBeLessThanOrEqual(server.config.maxReadBytes * 2);
    socket.destroy();
  });
});

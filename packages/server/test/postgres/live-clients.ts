/**
 * Minimal live readers for the PostgreSQL tests: an SSE reader and a
 * long-poll loop over a JSON stream, each collecting the messages it is
 * given, in order, so a test can check order and exactly-once delivery.
 */
export interface LiveReader {
  readonly messages: unknown[];
  /** Resolves once `count` messages have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<unknown[]>;
  stop(): void;
}

function collector(stop: () => void): LiveReader & { push(items: unknown[]): void; fail(error: unknown): void } {
  const messages: unknown[] = [];
  const waiters = new Set<() => void>();
  let failure: unknown = null;
  const notify = () => waiters.forEach((w) => w());
  return {
    messages,
    push(items) {
      messages.push(...items);
      notify();
    },
    fail(error) {
      failure = error;
      notify();
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= count) done(() => resolve(messages));
          else if (failure) done(() => reject(failure));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`got ${messages.length} of ${count} messages in ${timeoutMs} ms`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    stop,
  };
}

/** Reads `url` (a stream URL) over SSE from `offset`; resolves once the response has started. */
export async function sseReader(url: string, offset: string, auth: Record<string, string>): Promise<LiveReader> {
  const controller = new AbortController();
  const reader = collector(() => controller.abort());
  const res = await fetch(`${url}?offset=${encodeURIComponent(offset)}&live=sse`, { headers: auth, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`SSE request failed: ${res.status}`);
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
          const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
          if (event === 'data') reader.push(JSON.parse(data) as unknown[]);
        }
      }
      reader.fail(new Error('SSE response ended'));
    } catch (error) {
      if (!controller.signal.aborted) reader.fail(error);
    }
  })();
  return reader;
}

/** Long-polls `url` from `offset` in a loop, as a client would. */
export function longPollReader(url: string, offset: string, auth: Record<string, string>): LiveReader {
  const controller = new AbortController();
  const reader = collector(() => controller.abort());
  void (async () => {
    let next = offset;
    try {
      while (!controller.signal.aborted) {
        const res = await fetch(`${url}?offset=${encodeURIComponent(next)}&live=long-poll`, { headers: auth, signal: controller.signal });
        if (res.status === 200) reader.push((await res.json()) as unknown[]);
        else if (res.status !== 204) throw new Error(`long-poll failed: ${res.status} ${await res.text()}`);
        else await res.arrayBuffer();
        next = res.headers.get('stream-next-offset') ?? next;
      }
    } catch (error) {
      if (!controller.signal.aborted) reader.fail(error);
    }
  })();
  return reader;
}

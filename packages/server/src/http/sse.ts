import type { ServerResponse } from 'node:http';

/**
 * Writes Server-Sent Events. Payloads are split on every line break so stream
 * data can never forge an event, and `write` reports backpressure: callers
 * await `drained()` before producing more, so a slow reader cannot make the
 * server buffer without bound.
 */
export class SseWriter {
  private ended = false;

  constructor(private readonly res: ServerResponse) {}

  get closed(): boolean {
    return this.ended || this.res.destroyed || this.res.writableEnded;
  }

  /** Returns false when the socket buffer is full. */
  event(name: string, payload: string, id?: string | number): boolean {
    if (this.closed) return false;
    return this.res.write(frame(name, payload, id));
  }

  /**
   * Writes several events as one piece: one chunk of the response and so,
   * on an idle connection, one packet, which the reader gets in one read.
   */
  events(events: readonly (readonly [name: string, payload: string])[]): boolean {
    if (this.closed) return false;
    let frames = '';
    for (const [name, payload] of events) frames += frame(name, payload);
    return this.res.write(frames);
  }

  comment(text: string): boolean {
    if (this.closed) return false;
    return this.res.write(`: ${text}\n\n`);
  }

  drained(signal: AbortSignal): Promise<void> {
    if (this.closed || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.res.writableEnded) this.res.end();
  }
}

function frame(name: string, payload: string, id?: string | number): string {
  let text = `event: ${name}\n`;
  if (id !== undefined) text += `id: ${id}\n`;
  for (const line of payload.split(/\r\n|\r|\n/)) text += `data:${line}\n`;
  return text + '\n';
}

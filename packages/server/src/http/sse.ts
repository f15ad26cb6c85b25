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
    let frame = `event: ${name}\n`;
    if (id !== undefined) frame += `id: ${id}\n`;
    for (const line of payload.split(/\r\n|\r|\n/)) frame += `data:${line}\n`;
    return this.res.write(frame + '\n');
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

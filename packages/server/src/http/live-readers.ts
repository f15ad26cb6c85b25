/**
 * Tracks open long-poll and SSE responses so shutdown can end each of them
 * with a final message instead of cutting sockets.
 */
import type { ServerResponse } from 'node:http';

export class LiveReaders {
  private readonly open = new Set<AbortController>();
  private readonly streaming = new Set<ServerResponse>();
  private draining = false;

  get size(): number {
    return this.open.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** A controller aborted when the client goes away or the server drains. */
  start(onClientGone: (listener: () => void) => void): AbortController {
    const controller = new AbortController();
    this.open.add(controller);
    onClientGone(() => controller.abort());
    if (this.draining) controller.abort();
    return controller;
  }

  finish(controller: AbortController): void {
    this.open.delete(controller);
  }

  /** Registers an SSE response so the bytes it holds unsent can be observed. */
  track(res: ServerResponse): () => void {
    this.streaming.add(res);
    return () => this.streaming.delete(res);
  }

  /** Bytes written to SSE responses but not yet taken by their sockets. */
  bufferedBytes(): number {
    let total = 0;
    for (const res of this.streaming) total += res.writableLength;
    return total;
  }

  drain(): void {
    this.draining = true;
    for (const controller of this.open) controller.abort();
  }
}

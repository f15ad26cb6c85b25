/**
 * Tracks open long-poll and SSE responses so shutdown can end each of them
 * with a final message instead of cutting sockets.
 */
export class LiveReaders {
  private readonly open = new Set<AbortController>();
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

  drain(): void {
    this.draining = true;
    for (const controller of this.open) controller.abort();
  }
}

import { TetherError } from './errors.js';
import type { ChannelEvent } from './types.js';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: TetherError): void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Pending questions of one turn, each waiting for its `interaction.response`
 * on `in`. The waiter is registered before the question is appended, so an
 * answer that arrives faster than the append's acknowledgement is not lost.
 */
export class InteractionWaiters {
  private readonly waiting = new Map<string, Waiter>();

  get size(): number {
    return this.waiting.size;
  }

  wait(interactionId: string, timeoutSeconds?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      this.waiting.set(interactionId, waiter);
      if (timeoutSeconds !== undefined) {
        // The server expires the interaction at the same moment; this only
        // spares the handler a wait for news that may never come.
        waiter.timer = setTimeout(
          () => this.settle(interactionId, new TetherError('INTERACTION_EXPIRED', `interaction ${interactionId} expired`)),
          timeoutSeconds * 1000,
        );
      }
    });
  }

  /** Feeds an `interaction.response` event from `in`. */
  deliver(event: ChannelEvent): void {
    const id = event.interactionId;
    // Answers to questions of earlier turns (seen when `in` is read from the start) have no waiter.
    if (typeof id !== 'string' || !this.waiting.has(id)) return;
    const status = typeof event.status === 'string' ? event.status : undefined;
    if (event.deny === true || status === 'denied') {
      this.settle(id, new TetherError('INTERACTION_DENIED', `interaction ${id} was denied`));
    } else if (status === 'cancelled' || status === 'expired') {
      const code = status === 'cancelled' ? 'INTERACTION_CANCELLED' : 'INTERACTION_EXPIRED';
      this.settle(id, new TetherError(code, `interaction ${id} was ${status}`));
    } else {
      this.settle(id, null, event.response);
    }
  }

  /** Rejects every pending question, e.g. when the turn is interrupted. */
  rejectAll(error: TetherError): void {
    for (const id of [...this.waiting.keys()]) this.settle(id, error);
  }

  private settle(id: string, error: TetherError | null, value?: unknown): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (waiter.timer) clearTimeout(waiter.timer);
    if (error) waiter.reject(error);
    else waiter.resolve(value);
  }
}

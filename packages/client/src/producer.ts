import { Header } from '@tether/protocol';
import { TetherError } from './errors.js';
import { HttpClient, retrying, type RetryOptions } from './http.js';

export interface ProducerOptions {
  /** Stream path (`/v1/stream/...`) or absolute URL. */
  path: string;
  /** `Producer-Id`: for a runner, the id the claim named (`tether-runner`). */
  id: string;
  /** `Producer-Epoch`: for a runner, its lease epoch, so a successor fences it off. */
  epoch: number;
  /** The first `Producer-Seq`; a new epoch starts at 0. */
  seq?: number;
  signal?: AbortSignal;
  /** Gives up after this many attempts per append (default: never, until `signal` fires). */
  attempts?: number;
  onRetry?: RetryOptions['onRetry'];
}

export interface AppendResult {
  seq: number;
  /** The stream's tail after the append; absent when the server recognised a retry (204). */
  offset?: string;
  duplicate: boolean;
}

/**
 * Appends JSON events to a stream as a Durable Streams idempotent producer.
 * Appends go one at a time in call order, each with the next `Producer-Seq`,
 * and a failed request is retried with the same seq: the server stores it
 * once and answers a repeat with 204. A sequence number is spent only when
 * the server accepted the event, so a rejected event (400) leaves no gap.
 * A 403 means a newer epoch owns the stream; every later append fails too.
 */
export class IdempotentProducer {
  private nextSeq: number;
  private tail: Promise<unknown> = Promise.resolve();
  private fenced: TetherError | null = null;

  constructor(
    private readonly http: HttpClient,
    private readonly options: ProducerOptions,
  ) {
    this.nextSeq = options.seq ?? 0;
  }

  get seq(): number {
    return this.nextSeq;
  }

  /** The 403 that fenced this producer off, once it happened. */
  get fencedBy(): TetherError | null {
    return this.fenced;
  }

  append(event: unknown): Promise<AppendResult> {
    const run = this.tail.then(
      () => this.send(event),
      () => this.send(event),
    );
    this.tail = run.catch(() => {});
    return run;
  }

  private async send(event: unknown): Promise<AppendResult> {
    if (this.fenced) throw this.fenced;
    const seq = this.nextSeq;
    const { id, epoch, path, signal, attempts, onRetry } = this.options;
    const headers = {
      [Header.producerId]: id,
      [Header.producerEpoch]: String(epoch),
      [Header.producerSeq]: String(seq),
    };
    try {
      const response = await retrying(() => this.http.request('POST', path, { body: event, headers, signal, timeoutMs: 30_000 }), { signal, attempts, onRetry });
      this.nextSeq = seq + 1;
      const offset = response.headers.get(Header.nextOffset) ?? undefined;
      return { seq, offset, duplicate: response.status === 204 };
    } catch (error) {
      if (error instanceof TetherError && error.status === 403) this.fenced = error;
      throw error;
    }
  }
}

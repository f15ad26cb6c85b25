import type {
  AppendBody,
  AppendOutcome,
  AppendRequest,
  CreateOutcome,
  CreateStreamRequest,
  DeleteOutcome,
  Lookup,
  ReadResult,
  Store,
  StreamMeta,
} from '../storage/types.js';
import type { Clock } from './clock.js';
import type { Notifier } from './live-hub.js';

/** Checks a deployment adds around raw stream writes (e.g. for session channels). */
export interface StreamPolicy {
  beforeCreate(path: string): void | Promise<void>;
  beforeDelete(path: string): void | Promise<void>;
  beforeAppend(path: string, request: { body: AppendBody; close: boolean; projectId?: string }): void | Promise<void>;
  /**
   * Takes over an append whose events must be written together with what
   * they cause (a session's turns and questions); null (or a promise of
   * null) leaves it to the store.
   */
  appendProjected?(request: AppendRequest): Promise<AppendOutcome | null> | null;
}

export interface StreamServiceDeps {
  store: Store;
  notifier: Notifier;
  clock: Clock;
  policy?: StreamPolicy;
}

export type WaitResult = 'changed' | 'timeout' | 'aborted';

/**
 * Stream operations without HTTP: writes go to the store and then wake the
 * stream's live readers; reads refresh sliding TTLs.
 */
export class StreamService {
  constructor(private readonly deps: StreamServiceDeps) {}

  now(): number {
    return this.deps.clock.now();
  }

  async create(request: Omit<CreateStreamRequest, 'now'>): Promise<CreateOutcome> {
    await this.deps.policy?.beforeCreate(request.path);
    return this.deps.store.createStream({ ...request, now: this.now() });
  }

  async append(request: Omit<AppendRequest, 'now'>): Promise<AppendOutcome> {
    // Most appends have nothing to check or project: no promise to wait for.
    const checked = this.deps.policy?.beforeAppend(request.path, request);
    if (checked) await checked;
    const full = { ...request, now: this.now() };
    const projected = this.deps.policy?.appendProjected?.(full);
    const outcome = (projected && (await projected)) ?? (await this.deps.store.append(full));
    if (outcome.kind === 'appended' || outcome.kind === 'closed') {
      const { meta } = outcome;
      this.deps.notifier.publish({ streamId: meta.id, tail: meta.tail, closed: meta.closed, deleted: false });
    }
    return outcome;
  }

  async delete(path: string): Promise<DeleteOutcome> {
    await this.deps.policy?.beforeDelete(path);
    const outcome = await this.deps.store.deleteStream(path, this.now());
    if (outcome.kind === 'deleted' || outcome.kind === 'soft-deleted') {
      this.deps.notifier.publish({ streamId: outcome.streamId, tail: 0, closed: true, deleted: true });
    }
    return outcome;
  }

  lookup(path: string): Promise<Lookup> {
    return this.deps.store.lookup(path, this.now());
  }

  /** Current metadata of a stream being read live; null once it is gone. */
  async refresh(meta: StreamMeta): Promise<StreamMeta | null> {
    const lookup = await this.deps.store.lookup(meta.path, this.now());
    return lookup.kind === 'found' && lookup.meta.id === meta.id ? lookup.meta : null;
  }

  /** The lowest position a read of `meta` may start at (its retained head). */
  retainedFrom(meta: StreamMeta): Promise<number> {
    return this.deps.store.retainedFrom(meta);
  }

  read(meta: StreamMeta, from: number, maxBytes: number): Promise<ReadResult> {
    return this.deps.store.read(meta, from, meta.tail, maxBytes);
  }

  /** Reads and writes reset a sliding TTL; HEAD does not. */
  touch(meta: StreamMeta): void {
    if (meta.ttlSeconds === null) return;
    this.deps.store.touch(meta.id, this.now()).catch(() => {
      // A lost refresh only shortens the stream's life; never fail a read for it.
    });
  }

  /**
   * Waits until the stream's tail moves past `position`, it closes or is
   * deleted, the timeout passes, or `signal` aborts. Subscribes before
   * re-checking the store so no change can slip between the two.
   */
  async waitForChange(meta: StreamMeta, position: number, timeoutMs: number, signal: AbortSignal): Promise<WaitResult> {
    if (signal.aborted) return 'aborted';
    let wake!: (result: WaitResult) => void;
    const done = new Promise<WaitResult>((resolve) => (wake = resolve));
    const unsubscribe = this.deps.notifier.subscribe(meta.id, (change) => {
      if (change.deleted || change.closed || change.tail > position) wake('changed');
    });
    const timer = setTimeout(() => wake('timeout'), timeoutMs);
    const onAbort = () => wake('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const current = await this.refresh(meta);
      if (!current || current.closed || current.tail > position) return 'changed';
      return await done;
    } finally {
      unsubscribe();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

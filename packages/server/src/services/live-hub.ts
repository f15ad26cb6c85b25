/**
 * Wakes live readers. Listeners are keyed by stream, so an append wakes the
 * readers of that stream only. The in-process hub serves the SQLite store; a
 * PostgreSQL deployment puts a LISTEN/NOTIFY notifier in front of the same
 * interface so readers on every replica are woken.
 */
export interface StreamChange {
  streamId: number;
  /** New tail position; readers re-read the data from the store. */
  tail: number;
  closed: boolean;
  deleted: boolean;
}

export type ChangeListener = (change: StreamChange) => void;

export interface Notifier {
  subscribe(streamId: number, listener: ChangeListener): () => void;
  publish(change: StreamChange): void;
  close(): Promise<void>;
}

export class LocalNotifier implements Notifier {
  private readonly listeners = new Map<number, Set<ChangeListener>>();

  subscribe(streamId: number, listener: ChangeListener): () => void {
    let set = this.listeners.get(streamId);
    if (!set) {
      set = new Set();
      this.listeners.set(streamId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(streamId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(streamId);
    };
  }

  publish(change: StreamChange): void {
    const set = this.listeners.get(change.streamId);
    if (!set) return;
    for (const listener of [...set]) listener(change);
  }

  /** Streams with at least one live reader. */
  watchedStreamIds(): number[] {
    return [...this.listeners.keys()];
  }

  /** Number of streams with at least one live reader (for metrics and tests). */
  get watchedStreams(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

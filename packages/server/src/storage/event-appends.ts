/** Server-written channel events, appended inside a turn transaction by either driver. */
import type { AppendOutcome, AppendRequest } from './types.js';

/** Thrown to roll a turn transaction back when its channel append is refused. */
export class AppendRefused extends Error {
  constructor(readonly outcome: AppendOutcome) {
    super('append refused');
  }
}

export const jsonRequest = (path: string, events: Record<string, unknown>[], now: number): AppendRequest => ({
  path,
  contentType: 'application/json',
  body: { kind: 'json', messages: events.map((e) => Buffer.from(JSON.stringify(e))) },
  close: false,
  streamSeq: null,
  producer: null,
  now,
});

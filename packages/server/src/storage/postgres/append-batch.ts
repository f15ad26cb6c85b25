/**
 * Runs a batch of appends in one transaction with a fixed number of round
 * trips: lock every stream the batch touches (in one statement, in key order,
 * so concurrent batches on other replicas cannot deadlock on each other), read
 * the producers' states, decide each append in arrival order with the shared
 * rules against the state left by the appends before it, then write all rows,
 * tails and producer states at once. A stream's data, tail and producer state
 * therefore always commit together.
 */
import { appliedAppend, bodyRows, decideAppend, expiryDeadline, isExpired, type ProducerState } from '../stream-rules.js';
import type { AppendOutcome, AppendRequest, StreamMeta } from '../types.js';
import type { Tx } from './connection.js';
import { arrayLiteral } from './sql-arrays.js';
import { pathKey, removeStream, toMeta, type StreamRow } from './stream-rows.js';
import { lockSessions, projectAppends, projectedSessions, type AcceptedAppend } from './postgres-transcripts.js';

interface ProducerWrite {
  streamId: number;
  producerId: string;
  state: ProducerState;
  now: number;
}

const producerKey = (streamId: number, producerId: string) => `${streamId}\u0000${producerId}`;

class PendingWrites {
  readonly rows: { streamId: number; end: number; data: Buffer }[] = [];
  readonly streams = new Map<number, { meta: StreamMeta; now: number }>();
  readonly producers = new Map<string, ProducerWrite>();

  async flush(tx: Tx): Promise<void> {
    const writes: Promise<unknown>[] = [];
    if (this.rows.length) {
      writes.push(tx`INSERT INTO stream_rows (stream_id, end_pos, data)
        SELECT * FROM unnest(${arrayLiteral(this.rows.map((r) => r.streamId))}::bigint[],
          ${arrayLiteral(this.rows.map((r) => r.end))}::bigint[],
          ${arrayLiteral(this.rows.map((r) => r.data))}::bytea[])`);
    }
    if (this.streams.size) {
      const s = [...this.streams.values()];
      writes.push(tx`UPDATE streams AS s SET tail = v.tail, closed = v.closed, stream_seq = v.stream_seq,
          closed_by_producer = v.closed_by_producer, closed_by_epoch = v.closed_by_epoch,
          closed_by_seq = v.closed_by_seq, last_access_at = v.now, expiry_deadline = v.deadline
        FROM unnest(${arrayLiteral(s.map((w) => w.meta.id))}::bigint[],
          ${arrayLiteral(s.map((w) => w.meta.tail))}::bigint[],
          ${arrayLiteral(s.map((w) => w.meta.closed))}::boolean[],
          ${arrayLiteral(s.map((w) => w.meta.streamSeq))}::text[],
          ${arrayLiteral(s.map((w) => w.meta.closedBy?.id ?? null))}::text[],
          ${arrayLiteral(s.map((w) => w.meta.closedBy?.epoch ?? null))}::bigint[],
          ${arrayLiteral(s.map((w) => w.meta.closedBy?.seq ?? null))}::bigint[],
          ${arrayLiteral(s.map((w) => w.now))}::bigint[],
          ${arrayLiteral(s.map((w) => expiryDeadline(w.meta)))}::bigint[])
          AS v(id, tail, closed, stream_seq, closed_by_producer, closed_by_epoch, closed_by_seq, now, deadline)
        WHERE s.id = v.id`);
    }
    if (this.producers.size) {
      const p = [...this.producers.values()];
      writes.push(tx`INSERT INTO producers (stream_id, producer_id, epoch, last_seq, updated_at)
        SELECT * FROM unnest(${arrayLiteral(p.map((w) => w.streamId))}::bigint[],
          ${arrayLiteral(p.map((w) => w.producerId))}::text[],
          ${arrayLiteral(p.map((w) => w.state.epoch))}::bigint[],
          ${arrayLiteral(p.map((w) => w.state.lastSeq))}::bigint[],
          ${arrayLiteral(p.map((w) => w.now))}::bigint[])
        ON CONFLICT (stream_id, producer_id)
        DO UPDATE SET epoch = excluded.epoch, last_seq = excluded.last_seq, updated_at = excluded.updated_at`);
    }
    // Sent together: the driver pipelines them on the transaction's connection.
    await Promise.all(writes);
    this.rows.length = 0;
    this.streams.clear();
    this.producers.clear();
  }
}

export async function runAppendBatch(
  tx: Tx,
  requests: AppendRequest[],
  forget: (streamId: number) => void,
): Promise<AppendOutcome[]> {
  // Sessions first, then streams: the order turn mutations lock them in.
  const heads = await lockSessions(tx, projectedSessions(requests));
  const accepted: AcceptedAppend[] = [];
  const paths = [...new Set(requests.map((r) => r.path))];
  const keys = paths.map(pathKey);
  const producerIds = [...new Set(requests.flatMap((r) => (r.producer ? [r.producer.id] : [])))];
  // The producer read is a separate statement so it sees everything committed
  // by whoever held the stream locks before us; one joined statement would read
  // producers from its pre-lock snapshot.
  const [streamRows, producerRows] = await Promise.all([
    tx<StreamRow[]>`SELECT * FROM streams WHERE path_hash = ANY(${arrayLiteral(keys)}::bytea[])
      ORDER BY path_hash FOR UPDATE`,
    producerIds.length
      ? tx<{ stream_id: number; producer_id: string; epoch: number; last_seq: number }[]>`
          SELECT p.stream_id, p.producer_id, p.epoch, p.last_seq FROM producers p
          JOIN streams s ON s.id = p.stream_id
          WHERE s.path_hash = ANY(${arrayLiteral(keys)}::bytea[]) AND p.producer_id = ANY(${arrayLiteral(producerIds)}::text[])`
      : Promise.resolve([]),
  ]);

  const streams = new Map<string, StreamMeta | null>();
  for (const row of streamRows) streams.set(row.path ?? '', toMeta(row));
  const producers = new Map<string, ProducerState>();
  for (const row of producerRows) {
    producers.set(producerKey(row.stream_id, row.producer_id), { epoch: row.epoch, lastSeq: row.last_seq });
  }

  const pending = new PendingWrites();
  const outcomes: AppendOutcome[] = [];
  for (const request of requests) {
    let meta = streams.get(request.path) ?? null;
    if (meta && !meta.softDeleted && isExpired(meta, request.now)) {
      // Rare: retire the expired stream exactly as a single append would,
      // after writing what the batch decided so far.
      await pending.flush(tx);
      await removeStream(tx, meta, forget);
      streams.set(request.path, null);
      meta = null;
    }
    if (!meta) {
      outcomes.push({ kind: 'not-found' });
      continue;
    }
    if (meta.softDeleted) {
      outcomes.push({ kind: 'gone' });
      continue;
    }
    const producer = request.producer;
    const key = producer ? producerKey(meta.id, producer.id) : '';
    const state = producer ? (producers.get(key) ?? null) : null;
    const decision = decideAppend(meta, state, request);
    if (decision.kind !== 'accept' && decision.kind !== 'close-only') {
      outcomes.push(decision);
      continue;
    }
    if (decision.kind === 'accept') {
      for (const row of bodyRows(request.body, meta.tail)) pending.rows.push({ streamId: meta.id, ...row });
      if (request.body.kind === 'json' && heads.size) {
        accepted.push({ path: request.path, startPosition: meta.tail, messages: request.body.messages, now: request.now });
      }
    }
    const updated = appliedAppend(meta, request);
    streams.set(request.path, updated);
    pending.streams.set(meta.id, { meta: updated, now: request.now });
    if (producer && decision.producerState) {
      producers.set(key, decision.producerState);
      pending.producers.set(key, { streamId: meta.id, producerId: producer.id, state: decision.producerState, now: request.now });
    }
    outcomes.push(
      decision.kind === 'close-only' ? { kind: 'closed', meta: updated, producer } : { kind: 'appended', meta: updated, producer },
    );
  }
  await pending.flush(tx);
  // Session channels' transcript rows commit with the events that made them.
  if (accepted.length) await projectAppends(tx, heads, accepted);
  return outcomes;
}

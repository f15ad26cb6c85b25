/** Header names of the Durable Streams protocol, lower-cased as Node presents them. */
export const Header = {
  nextOffset: 'stream-next-offset',
  upToDate: 'stream-up-to-date',
  closed: 'stream-closed',
  cursor: 'stream-cursor',
  ttl: 'stream-ttl',
  expiresAt: 'stream-expires-at',
  seq: 'stream-seq',
  forkedFrom: 'stream-forked-from',
  forkOffset: 'stream-fork-offset',
  forkSubOffset: 'stream-fork-sub-offset',
  producerId: 'producer-id',
  producerEpoch: 'producer-epoch',
  producerSeq: 'producer-seq',
  producerExpectedSeq: 'producer-expected-seq',
  producerReceivedSeq: 'producer-received-seq',
  sseDataEncoding: 'stream-sse-data-encoding',
} as const;

/** Response headers a browser client must be allowed to read. */
export const EXPOSED_HEADERS = [
  Header.nextOffset,
  Header.upToDate,
  Header.closed,
  Header.cursor,
  Header.ttl,
  Header.expiresAt,
  Header.producerEpoch,
  Header.producerSeq,
  Header.producerExpectedSeq,
  Header.producerReceivedSeq,
  Header.sseDataEncoding,
  'etag',
  'location',
  'retry-after',
];

/** Request headers a browser client may send. */
export const ALLOWED_REQUEST_HEADERS = [
  'content-type',
  'authorization',
  'if-none-match',
  'if-match',
  'last-event-id',
  Header.closed,
  Header.ttl,
  Header.expiresAt,
  Header.seq,
  Header.forkedFrom,
  Header.forkOffset,
  Header.forkSubOffset,
  Header.producerId,
  Header.producerEpoch,
  Header.producerSeq,
];

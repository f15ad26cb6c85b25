/**
 * Bench payloads: small JSON objects shaped like agent events, padded to a
 * fixed size so every target stores and serves the same bytes.
 */
export function makeMessage(id, bytes) {
  const base = { id, type: 'token', at: 0, text: '' };
  const shell = Buffer.byteLength(JSON.stringify(base));
  base.text = 'x'.repeat(Math.max(0, bytes - shell));
  return JSON.stringify(base);
}

/** One POST body carrying many messages: a JSON array is flattened by one level. */
export function makeBatch(firstId, count, bytes) {
  const items = [];
  for (let i = 0; i < count; i++) items.push(makeMessage(firstId + i, bytes));
  return `[${items.join(',')}]`;
}

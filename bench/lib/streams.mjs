import { expectStatus } from './http-client.mjs';

export const JSON_HEADERS = { 'content-type': 'application/json' };

let counter = 0;
/** A stream path no earlier run or phase has used. */
export function freshStreamPath(label) {
  counter += 1;
  return `/v1/stream/bench-${label}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Creates a JSON stream and returns its tail offset. */
export async function createJsonStream(client, path) {
  const res = await client.request('PUT', path, { headers: JSON_HEADERS });
  await expectStatus(res, [200, 201], `PUT ${path}`);
  const offset = res.headers['stream-next-offset'];
  if (!offset) throw new Error(`PUT ${path}: no Stream-Next-Offset header`);
  return offset;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

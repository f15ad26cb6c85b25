/**
 * Random ids for messages, tool calls and interactions. `crypto.randomUUID`
 * exists only in secure browser contexts; `getRandomValues` exists everywhere.
 */
export function newId(prefix: string): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return `${prefix}_${hex}`;
}

/**
 * NUL characters are refused at the door: PostgreSQL cannot store them in
 * text or jsonb, SQLite can, so letting them through would make the two
 * stores answer the same request differently (and one of them with a 5xx).
 */
export function containsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (next.includes('\u0000')) return true;
    } else if (Array.isArray(next)) {
      pending.push(...next);
    } else if (next !== null && typeof next === 'object') {
      for (const [key, item] of Object.entries(next)) {
        if (key.includes('\u0000')) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

/**
 * Numbers too large for a double arrive as Infinity: `limit=1e309` in a query
 * (coerced by the schema) or `1e309` in a JSON body (parsed by JSON.parse)
 * passes a `maximum` check, then reaches the store as a value it cannot bind.
 */
export function containsNonFinite(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'number') {
      if (!Number.isFinite(next)) return true;
    } else if (Array.isArray(next)) {
      pending.push(...next);
    } else if (next !== null && typeof next === 'object' && !Buffer.isBuffer(next)) {
      pending.push(...Object.values(next));
    }
  }
  return false;
}

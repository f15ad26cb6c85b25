import type { Page } from './api-types.js';

type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];

/** `?a=1&tag=x&tag=y` from an object; undefined and null are left out, arrays repeat. */
export function queryString(params: Record<string, QueryValue>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) query.append(name, String(item));
    else query.append(name, String(value));
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

/**
 * Walks a cursor-paginated list one item at a time, fetching the next page
 * only when the caller has consumed the last; `break` stops the fetching.
 */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, cursor?: string): AsyncGenerator<T> {
  let next: string | undefined = cursor;
  for (;;) {
    const page = await fetchPage(next);
    yield* page.data;
    if (!page.nextCursor || page.data.length === 0) return;
    next = page.nextCursor;
  }
}

/** Encodes a session ref (an id or an externalId, which may hold any character) for a path. */
export const ref = (value: string) => encodeURIComponent(value);

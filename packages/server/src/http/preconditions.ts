/** `If-Match` and `If-None-Match` (RFC 9110 §13.1) as the store's `Preconditions`. */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Preconditions } from '../storage/session-data-types.js';

// One entity-tag, optionally weak, then a comma or the end.
const ENTITY_TAG = /^\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/;

function parseList(name: string, value: string | string[] | undefined, strong: boolean): '*' | string[] | null {
  if (value === undefined) return null;
  const text = [value].flat().join(',');
  if (text.trim() === '*') return '*';
  const tags: string[] = [];
  let rest = text;
  while (rest.trim() !== '') {
    const match = ENTITY_TAG.exec(rest);
    if (!match) throw new AppError('INVALID_HEADER', `${name} must be * or a list of quoted entity tags`, { header: name });
    // If-Match compares strongly, so a weak tag can never match it.
    if (!(strong && match[1])) tags.push(match[2]!);
    rest = rest.slice(match[0].length);
  }
  return tags;
}

export function readPreconditions(request: FastifyRequest): Preconditions {
  return {
    ifMatch: parseList('If-Match', request.headers['if-match'], true),
    ifNoneMatch: parseList('If-None-Match', request.headers['if-none-match'], false),
  };
}

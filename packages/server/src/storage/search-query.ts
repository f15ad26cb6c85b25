/**
 * Search queries, parsed once into terms both full-text engines understand.
 * Users type words, `"quoted phrases"` and `prefix*`; everything else
 * (operators, punctuation, stray quotes) separates words and is never passed
 * to an engine's own query syntax, so no input can make a query fail.
 *
 * Words are runs of letters, digits and combining marks, lower-cased: the same
 * split SQLite's `unicode61` tokenizer and the PostgreSQL index expression use.
 */
import type { SearchTerm } from './transcript-types.js';

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const MAX_TERMS = 16;

export function words(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []) as string[];
}

export function parseSearchQuery(query: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  const parts = query.split('"');
  parts.forEach((part, index) => {
    // Odd parts sit between quotes (an unclosed quote still makes a phrase).
    if (index % 2 === 1) {
      const phrase = words(part);
      if (phrase.length === 1) terms.push({ kind: 'word', text: phrase[0]!, prefix: false });
      else if (phrase.length > 1) terms.push({ kind: 'phrase', words: phrase });
      return;
    }
    for (const match of part.toLowerCase().matchAll(/([\p{L}\p{N}\p{M}]+)(\*?)/gu)) {
      terms.push({ kind: 'word', text: match[1]!, prefix: match[2] === '*' });
    }
  });
  return terms.slice(0, MAX_TERMS);
}

/** An FTS5 MATCH expression: every term quoted, so none is read as an operator. */
export function fts5Query(terms: SearchTerm[]): string {
  return terms
    .map((term) => (term.kind === 'word' ? `"${term.text}"${term.prefix ? '*' : ''}` : `"${term.words.join(' ')}"`))
    .join(' AND ');
}

/** A `to_tsquery('simple', …)` expression with every lexeme quoted. */
export function tsQuery(terms: SearchTerm[]): string {
  return terms
    .map((term) =>
      term.kind === 'word'
        ? `'${term.text}'${term.prefix ? ':*' : ''}`
        : `(${term.words.map((word) => `'${word}'`).join(' <-> ')})`,
    )
    .join(' & ');
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const SNIPPET_CHARS = 160;

/**
 * A window of `text` around its first match, HTML-escaped, with each matching
 * word wrapped in `<mark>`…`</mark>`.
 */
export function snippet(text: string, terms: SearchTerm[]): string {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const term of terms) {
    if (term.kind === 'phrase') term.words.forEach((word) => exact.add(word));
    else if (term.prefix) prefixes.push(term.text);
    else exact.add(term.text);
  }
  const matches: [number, number][] = [];
  for (const match of text.matchAll(WORD)) {
    const word = match[0].toLowerCase();
    if (exact.has(word) || prefixes.some((prefix) => word.startsWith(prefix))) {
      matches.push([match.index!, match.index! + match[0].length]);
    }
  }
  const first = matches[0]?.[0] ?? 0;
  let start = Math.max(0, first - SNIPPET_CHARS / 4);
  const end = Math.min(text.length, start + SNIPPET_CHARS);
  start = Math.max(0, Math.min(start, end - SNIPPET_CHARS));
  // Do not cut a surrogate pair at the edges.
  if (start > 0 && /[\uDC00-\uDFFF]/.test(text[start]!)) start++;
  let out = start > 0 ? '…' : '';
  let at = start;
  for (const [from, to] of matches) {
    if (to <= start || from >= end) continue;
    const clippedFrom = Math.max(from, start);
    const clippedTo = Math.min(to, end);
    out += escapeHtml(text.slice(at, clippedFrom)) + '<mark>' + escapeHtml(text.slice(clippedFrom, clippedTo)) + '</mark>';
    at = clippedTo;
  }
  out += escapeHtml(text.slice(at, end));
  if (end < text.length) out += '…';
  return out;
}

/**
 * Array parameters as PostgreSQL array literals, cast in the query
 * (`${arrayLiteral(ids)}::bigint[]`). The driver's own array parameters need
 * type information it fetches per connection, and a query racing a new
 * connection's fetch is sent with the wrong type; a literal needs nothing.
 */
export type ArrayElement = number | string | boolean | Buffer | null;

function element(value: ArrayElement): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  // bytea's hex input form, `\x...`, with the backslash escaped for the array parser.
  if (Buffer.isBuffer(value)) return `"\\\\x${value.toString('hex')}"`;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function arrayLiteral(values: readonly ArrayElement[]): string {
  return `{${values.map(element).join(',')}}`;
}

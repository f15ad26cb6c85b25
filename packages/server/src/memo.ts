/**
 * A pure function of a string, with its results for recent arguments kept:
 * the append path parses the same few content types and stream paths over
 * and over. Memory stays bounded whatever callers send: at `capacity` entries
 * the whole table is dropped, and arguments over `maxKeyLength` characters
 * are computed every time. A call that throws keeps nothing.
 */
export function memoized<T>(compute: (key: string) => T, capacity: number, maxKeyLength = 256): (key: string) => T {
  const results = new Map<string, T>();
  return (key) => {
    const known = results.get(key);
    if (known !== undefined) return known;
    const value = compute(key);
    if (key.length > maxKeyLength) return value;
    if (results.size >= capacity) results.clear();
    results.set(key, value);
    return value;
  };
}

// Query strings, for API requests and for the dashboard's own addresses (the part
// of the hash after `?`), so that a view's state survives a reload and can be linked.

export type QueryValue = string | number | boolean | null | undefined;

/**
 * `?a=1&b=x` from the entries that have a value. Blank strings, null, undefined
 * and `false` are left out: a filter left empty must not narrow anything, and every
 * flag the API takes is off by default. Entries keep their order, so an address
 * built twice from the same state is the same string.
 */
export function queryString(params: Record<string, QueryValue>): string {
  return queryPairs(Object.entries(params));
}

/**
 * `queryString` for a name that may be given more than once (`event=a&event=b`),
 * in the pairs' order, with the same rules for what is left out.
 */
export function queryPairs(pairs: ReadonlyArray<readonly [string, QueryValue]>): string {
  const parts: string[] = [];
  for (const [name, value] of pairs) {
    if (value === undefined || value === null || value === false) continue;
    const text = String(value);
    if (text.trim() === '') continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The pairs of `?a=1&b=2` (or `a=1&b=2`); a name given twice keeps its last value. */
export function parseQuery(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  new URLSearchParams(text.startsWith('?') ? text.slice(1) : text).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

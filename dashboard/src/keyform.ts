// The "create a key" form's fields, read and checked before anything is sent, so a
// mistake is pointed at its field instead of coming back as a server error.

export interface NewKey {
  name: string;
  domains: string[];
  rate_limit_per_minute: number;
}

/** What the form holds when it opens: the CLI's default limit. */
export const DEFAULT_RATE_LIMIT = 1000;

/**
 * The domains typed into one box, separated by commas, spaces or new lines. People
 * paste addresses, so a scheme, path or trailing dot is dropped ("https://Shop.example.com/cart"
 * means shop.example.com). Duplicates go; order stays.
 */
export function parseDomains(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const domain = raw
      .trim()
      .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
      .replace(/[/?#].*$/, '')
      .replace(/\.$/, '')
      .toLowerCase();
    if (domain && !out.includes(domain)) out.push(domain);
  }
  return out;
}

/** The first of `domains` that is not a domain name (an optional `*.` and port allowed), if any. */
export function badDomain(domains: string[]): string | undefined {
  return domains.find((d) => !/^(\*\.)?[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)*(:\d+)?$/u.test(d));
}

export type FieldError = { field: 'name' | 'domains' | 'limit'; error: string };

export function readKeyForm(fields: { name: string; domains: string; limit: string }): NewKey | FieldError {
  const name = fields.name.trim();
  if (!name) return { field: 'name', error: 'Give the key a name people will recognise, such as "Website – production".' };
  const domains = parseDomains(fields.domains);
  const bad = badDomain(domains);
  if (bad) return { field: 'domains', error: `"${bad}" is not a domain name.` };
  const limitText = fields.limit.trim();
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1) {
    return { field: 'limit', error: 'The limit is a whole number of requests per minute, at least 1.' };
  }
  return { name, domains, rate_limit_per_minute: Number(limitText) };
}

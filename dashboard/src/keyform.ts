// The key form's fields (to create a key, or change one), read and checked before
// anything is sent, so a mistake is pointed at its field instead of coming back as
// a server error.

export interface KeyFields {
  name: string;
  domains: string[];
  rate_limit_per_minute: number;
  per_address_rate_limit_per_minute: number;
}

/** What the create form holds when it opens: the server's defaults. */
export const DEFAULT_RATE_LIMIT = 100000;
export const DEFAULT_PER_ADDRESS_LIMIT = 1200;
/** The highest limit the server takes. */
export const MAX_RATE_LIMIT = 100000000;

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

export type FieldError = { field: 'name' | 'domains' | 'limit' | 'perAddress'; error: string };

/** A whole number from `least` to MAX_RATE_LIMIT, or undefined. */
function limitOf(text: string, least: number): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= least && n <= MAX_RATE_LIMIT ? n : undefined;
}

export function readKeyForm(fields: { name: string; domains: string; limit: string; perAddress: string }): KeyFields | FieldError {
  const name = fields.name.trim();
  if (!name) return { field: 'name', error: 'Give the key a name people will recognise, such as "Website – production".' };
  const domains = parseDomains(fields.domains);
  const bad = badDomain(domains);
  if (bad) return { field: 'domains', error: `"${bad}" is not a domain name.` };
  const limit = limitOf(fields.limit, 1);
  if (limit === undefined) {
    return { field: 'limit', error: `The limit is a whole number of requests per minute, from 1 to ${MAX_RATE_LIMIT.toLocaleString('en')}.` };
  }
  const perAddress = limitOf(fields.perAddress, 0);
  if (perAddress === undefined) {
    return {
      field: 'perAddress',
      error: `The limit per address is a whole number of requests per minute, from 0 (no limit) to ${MAX_RATE_LIMIT.toLocaleString('en')}.`,
    };
  }
  return { name, domains, rate_limit_per_minute: limit, per_address_rate_limit_per_minute: perAddress };
}

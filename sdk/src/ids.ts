// The clock and identifiers: message times, and random ids for messages,
// anonymous visitors and sessions.

export const now = (): number => Date.now();
export const iso = (t: number): string => new Date(t).toISOString();

/** A random RFC 4122 version 4 UUID (crypto.getRandomValues works outside secure contexts too). */
export const uuid = (): string =>
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
    (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+c / 4)))).toString(16),
  );

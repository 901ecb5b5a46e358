// The install snippets on a project's keys page: what a site or a back end pastes
// to send events to this Spoor, with this server's origin and a key filled in.

/** Shown instead of a key once the full key is no longer on the page. */
export const KEY_PLACEHOLDER = 'YOUR_WRITE_KEY';

const attribute = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const jsString = (text: string) => text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

/** The script tag for a web page: Spoor's own browser SDK, served by this server. */
export function scriptTagSnippet(origin: string, key: string): string {
  return (
    `<script src="${attribute(origin)}/sdk/spoor.js" data-api-key="${attribute(key)}" ` +
    `data-endpoint="${attribute(origin)}" async></script>`
  );
}

/**
 * For Segment's libraries, which Spoor accepts as they are: only the write key and
 * the host change. Shown for analytics-node; the others take the same two settings.
 */
export function segmentNodeSnippet(origin: string, key: string): string {
  return [
    "import { Analytics } from '@segment/analytics-node';",
    '',
    `const analytics = new Analytics({ writeKey: '${jsString(key)}', host: '${jsString(origin)}' });`,
    "analytics.track({ userId: 'user-123', event: 'Signed Up' });",
  ].join('\n');
}

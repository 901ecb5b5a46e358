// The client: builds Segment messages, owns identity, the queue and the sender, and
// wires up automatic capture. Every entry point is guarded: nothing it does can
// throw into the host page.

import { bytes } from './batch';
import { captureClicks, Clicks } from './clicks';
import { settings } from './config';
import { captureErrors } from './errors';
import { captureForms } from './forms';
import { campaign, createPages, onUrlChange, pageProperties, Pages } from './pageviews';
import { createQueue } from './queue';
import { createIdentity } from './session';
import { createSender } from './transport';
import type { Capture, Config, Message, Properties, Spoor } from './types';
import { iso, now, uuid } from './ids';
import { attempt, guard, log, on, setDebug } from './safe';
import { storage } from './storage';
import { vitalsReporter } from './vitals';

export const VERSION = '0.1.0';
/** The server takes messages up to 32 KiB; larger ones are dropped here, not queued. */
const MAX_MESSAGE_BYTES = 32000;
const CONSENT = 'spoor_consent';

export function createClient(config: Config, base: string): Spoor {
  const s = settings(config, base);
  const want = (f: keyof Capture) => s.capture[f] !== false;
  setDebug(!!s.debug);
  const local = storage(s.cookieless ? undefined : 'localStorage');
  const nav = navigator as any;
  const dnt = s.honorDnt && (nav.doNotTrack == '1' || nav.globalPrivacyControl);
  let consent = local.get(CONSENT);
  const off = () => consent == 'out' || (dnt && consent != 'in');
  // Until tracking is allowed, ids and the queue are kept in memory only; the
  // choice itself is kept, so that it lasts.
  const ids = off() ? storage() : local;
  const tab = storage(s.cookieless || off() ? undefined : 'sessionStorage');
  const timezone = attempt(() => Intl.DateTimeFormat().resolvedOptions().timeZone, '');
  let pages: Pages | undefined;
  let clicks: Clicks | undefined;
  const referrer = () => (pages ? pages._referrer : document.referrer);

  const queue = createQueue(ids, tab, s.apiKey, s.maxQueue);
  const id = createIdentity(ids, tab, s.sessionTimeout, (event, properties, t, sid) =>
    want('sessions') && enqueue('track', { event, properties }, t, sid),
  );
  const sender = createSender(queue, s.url, s.apiKey, s.batchSize, s.batchInterval, self.fetch?.bind(self), () => {
    const n = queue._dropped;
    if (n) (queue._dropped = 0), track('$messages_dropped', { count: n });
  });

  /** Queues one message; `sid` is given for session events, else the event touches the session. */
  function enqueue(type: Message['type'], fields: Partial<Message>, t = now(), sid?: string): void {
    if (off()) return;
    const m = {
      type,
      messageId: uuid(),
      timestamp: iso(t),
      anonymousId: id._anon,
      userId: id._user || undefined,
      ...fields,
      context: {
        library: { name: 'spoor.js', version: VERSION },
        page: pageProperties(referrer()),
        userAgent: nav.userAgent,
        locale: nav.language,
        timezone,
        screen: { width: screen.width, height: screen.height },
        campaign: campaign(location.search),
        sessionId: sid || id._touch(t),
      },
    };
    const json = JSON.stringify(m);
    if (bytes(json) > MAX_MESSAGE_BYTES) return log('too large', m);
    queue._push(JSON.parse(json));
    sender._nudge();
    log('queued', m);
  }

  const track = (event: string, properties?: Properties, t?: number) =>
    enqueue('track', { event: String(event), properties: properties || {} }, t);

  /** A new session for a new person (`sign_out`, `user_switch`), under a new anonymous id. */
  const switchUser = (reason: string, user: string | null) => {
    const t = now();
    id._end(reason, t);
    id._newAnon();
    id._setUser(user);
    id._start(t);
  };

  /**
   * Session recording is a module of its own (rrweb is larger than all of this SDK),
   * imported from Spoor only when asked for and allowed (so under Do Not Track or an
   * opt-out not even its request is made). It calls the hook for the session, the ids
   * and consent, and gets nothing while tracking is off. `url` ends in /v1/batch: the
   * browser resolves the dots to Spoor's /sdk/spoor-record.js.
   */
  const record = () =>
    s.enableRecording &&
    !off() &&
    import(/* webpackIgnore: true */ /* @vite-ignore */ s.url + '/../../sdk/spoor-record.js')
      .then((m) => m.default(s, () => !off() && [id._peek(), id._anon, id._user], log))
      .catch(log);

  const api: Spoor = {
    track,
    page(name, properties) {
      if (name && typeof name == 'object') (properties = name), (name = undefined);
      enqueue('page', { name: name as string, properties: { ...pageProperties(referrer()), ...properties } });
    },
    identify(userId, traits) {
      if (userId && typeof userId == 'object') (traits = userId), (userId = undefined);
      const next = userId == null ? id._user : String(userId);
      // Seed 004's rule: a different user ends the previous user's session.
      if (id._user && next && next != id._user) switchUser('user_switch', next);
      else id._setUser(next);
      enqueue('identify', { traits: traits || {} });
    },
    group: (groupId, traits) => enqueue('group', { groupId: String(groupId), traits: traits || {} }),
    alias: (userId, previousId) => enqueue('alias', { userId: String(userId), previousId: previousId || id._user || id._anon }),
    reset: () => switchUser('sign_out', null),
    flush: () => sender._flush(),
    optOut() {
      local.set(CONSENT, (consent = 'out'));
      queue._clear();
    },
    optIn() {
      local.set(CONSENT, (consent = 'in'));
      record();
    },
    debug: (on) => setDebug(on !== false),
  };
  // Guarded, except flush: it only arms a timer and starts a promise that never rejects.
  for (const k in api) if (k != 'flush') (api as any)[k] = guard((api as any)[k]);

  // Automatic capture, each part on its own so that one failing leaves the others.
  const start = (f: () => unknown) => guard(f)();
  start(record);
  start(() => want('errors') && captureErrors(track));
  start(() => want('forms') && captureForms(track));
  start(() => (clicks = captureClicks(want, track)));
  // Web vitals, like the recorder, are a bundle imported from Spoor (see vitals.ts).
  start(
    () =>
      want('vitals') &&
      !off() &&
      import(/* webpackIgnore: true */ /* @vite-ignore */ s.url + '/../../sdk/spoor-vitals.js')
        .then((m) => m.default(vitalsReporter(track, sender._beacon)))
        .catch(log),
  );
  start(() => {
    if (want('pageviews'))
      pages = createPages(
        (properties) => enqueue('page', { properties }),
        (properties) => track('$page_leave', properties),
      );
    if (pages || clicks)
      onUrlChange(() => {
        clicks?._activity();
        pages?._route();
      });
    pages?._view();
  });

  /** The page is hidden (`unload`: going away): final values, then everything queued goes by beacon. */
  const hide = (unload?: boolean) => {
    try {
      if (clicks) clicks._end(), clicks._activity();
      if (unload && pages) pages._leave();
      if (unload) id._end('page_unload', now());
    } finally {
      sender._beacon();
    }
  };
  on(window, 'pagehide', () => hide(true));
  on(document, 'visibilitychange', () => document.visibilityState == 'hidden' && hide());
  on(window, 'pageshow', (e: PageTransitionEvent) => e.persisted && pages?._view());
  if (queue._items.length) api.flush();
  return api;
}

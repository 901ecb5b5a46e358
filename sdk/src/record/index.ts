// The recorder bundle's entry (`dist/spoor-record.js`, served at /sdk/spoor-record.js):
// an ES module the core SDK imports when recording is enabled and tracking allowed,
// then calls with its settings, its hook (session, ids, consent) and its logger.
// The core calls it again on every opt-in; there is one recorder per page.

import { record } from '@rrweb/record';
import { createRecorder, Hook, Log, Recorder, RecordSettings } from './recorder';
import { guard, setDebug } from '../safe';

let recorder: Recorder | undefined;

export default guard((s: RecordSettings & { debug?: boolean }, hook: Hook, log: Log): void => {
  // The recorder's own guards log (what they catch) only in debug mode, as the core's do.
  setDebug(!!s.debug);
  if (recorder) recorder._check();
  else recorder = createRecorder(record as any, s, hook, log);
});

// Repeats a task while the page is visible: the overview's live updates. A hidden
// tab asks nothing of the server; coming back asks at once. Runs never overlap:
// the next one is scheduled only when the last has finished, so a slow server is
// never asked twice at the same time.

/** What the poller needs of `document`, so that tests can hand it a stand-in. */
export interface Visibility extends EventTarget {
  readonly visibilityState: string;
}

export interface Poller {
  /** Runs the task now (after the current run, if one is going) and restarts the interval. */
  now(): void;
  stop(): void;
}

export function poll(task: () => Promise<void>, everyMs: number, page: Visibility = document): Poller {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let again = false;
  let stopped = false;

  const visible = () => page.visibilityState === 'visible';
  const cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const schedule = () => {
    cancel();
    if (!stopped && visible()) timer = setTimeout(run, everyMs);
  };
  async function run() {
    timer = null;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await task();
    } catch {
      // The task shows its own errors; polling goes on so the page recovers by itself.
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      void run();
    } else {
      schedule();
    }
  }
  const onVisibility = () => {
    cancel();
    if (visible()) void run();
  };
  page.addEventListener('visibilitychange', onVisibility);
  void run();

  return {
    now() {
      cancel();
      void run();
    },
    stop() {
      stopped = true;
      cancel();
      page.removeEventListener('visibilitychange', onVisibility);
    },
  };
}

/**
 * Whether any of `controls` (the page's dropdowns) is being used: from a press or
 * a key on it until its value changes or it loses focus. A poll that redraws the
 * page waits meanwhile, so that nothing moves under an open list of choices.
 */
export function inUse(controls: EventTarget[]): () => boolean {
  const using = new Set<EventTarget>();
  for (const control of controls) {
    const start = () => using.add(control);
    const end = () => using.delete(control);
    control.addEventListener('pointerdown', start);
    control.addEventListener('keydown', start);
    control.addEventListener('change', end);
    control.addEventListener('blur', end);
  }
  return () => using.size > 0;
}

// Polls `tick` every `intervalMs`, one call at a time, pausing while the tab
// is hidden. `tick` resolving to false stops the polling; a rejection is
// the tick's own business (it should show the error) and polling goes on.

export interface Poller {
  /** Polls right away (e.g. after an action), then on the interval again. */
  now(): void;
  stop(): void;
}

export function startPolling(tick: () => Promise<boolean | void>, intervalMs: number, doc: Document = document): Poller {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  let stopped = false;

  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && !doc.hidden) timer = setTimeout(run, intervalMs);
  };

  async function run(): Promise<void> {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    clearTimeout(timer);
    try {
      if ((await tick()) === false) stopped = true;
    } catch {
      // tick shows its own errors
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      void run();
      return;
    }
    schedule();
  }

  const onVisibility = () => {
    if (doc.hidden) clearTimeout(timer);
    else void run();
  };
  doc.addEventListener('visibilitychange', onVisibility);
  void run();

  return {
    now: () => void run(),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      doc.removeEventListener('visibilitychange', onVisibility);
    },
  };
}

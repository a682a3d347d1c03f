// Refetching a list after change events: events that arrive while a fetch is in flight lead to
// one more fetch after it (not one each), so an older answer never lands after a newer one.

/** `fetch`, wrapped so that calls during a run are folded into one more run after it. */
export function coalesced(fetch: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await fetch();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

// One action's progress and failure, for the button that starts it and the message beside it:
// `pending` while it runs (its buttons disabled, a spinner), `error` (the backend's
// `{ code, message }`) when it failed. Each component keeps one per thing its buttons do:
//
//   const save = action(async () => notify.configureSlack(settings));
//   <button disabled={save.pending} onclick={save.run}>…</button>
//   {#if save.error}<FormAlert message={save.error.message} />{/if}
//
// (Not a Svelte `use:` action: a value the component reads.)

import { toAppError, type AppError } from "$lib/logic/errors";

export interface ActionOptions {
  /** Also told of each failure, e.g. to show it as a toast rather than beside a form. */
  onerror?: (error: AppError) => void;
}

export class Action<A extends unknown[] = []> {
  /** True from the start of a run until it settles. */
  pending = $state(false);
  /** The last run's failure; cleared when a run starts. */
  error = $state.raw<AppError | null>(null);

  readonly #fn: (...args: A) => Promise<unknown>;
  readonly #onerror: ((error: AppError) => void) | undefined;

  constructor(fn: (...args: A) => Promise<unknown>, options: ActionOptions = {}) {
    this.#fn = fn;
    this.#onerror = options.onerror;
  }

  /** The last failure's message, or null. */
  get message(): string | null {
    return this.error?.message ?? null;
  }

  /**
   * Runs the action, unless a run is still pending (a second click does nothing). Resolves to
   * true when it succeeded, false when it failed (the reason is in `error`) or did not run.
   * Never rejects.
   */
  run = async (...args: A): Promise<boolean> => {
    if (this.pending) return false;
    this.pending = true;
    this.error = null;
    try {
      await this.#fn(...args);
      return true;
    } catch (raw) {
      const error = toAppError(raw);
      this.error = error;
      this.#onerror?.(error);
      return false;
    } finally {
      this.pending = false;
    }
  };

  /** Forgets the last failure (what it was about changed). */
  clear(): void {
    this.error = null;
  }
}

/** `new Action(fn, options)`. */
export function action<A extends unknown[] = []>(
  fn: (...args: A) => Promise<unknown>,
  options?: ActionOptions,
): Action<A> {
  return new Action(fn, options);
}

/** True while any of `actions` runs: for buttons that wait for each other. */
export function anyPending(...actions: { pending: boolean }[]): boolean {
  return actions.some((a) => a.pending);
}

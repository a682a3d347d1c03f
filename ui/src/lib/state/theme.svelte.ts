// The window's light or dark look: the choice is kept in this window's storage (read before the
// first paint, so a dark window never flashes light) and follows the system while it is
// "Match system".

import { parseChoice, resolveTheme, type ThemeChoice } from "$lib/logic/theme";

const KEY = "pitchbar.theme";

class ThemeState {
  choice = $state<ThemeChoice>("system");
  #media: MediaQueryList | null = null;

  /** Before the app mounts: applies the stored choice and follows the system's changes. */
  init(): void {
    try {
      this.choice = parseChoice(localStorage.getItem(KEY));
    } catch {
      // Storage refused: the system's look.
    }
    this.#media = window.matchMedia?.("(prefers-color-scheme: dark)") ?? null;
    this.#media?.addEventListener("change", () => this.#apply());
    this.#apply();
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    try {
      localStorage.setItem(KEY, choice);
    } catch {
      // Not kept across restarts; still applied now.
    }
    this.#apply();
  }

  #apply(): void {
    document.documentElement.dataset.theme = resolveTheme(
      this.choice,
      this.#media?.matches ?? false,
    );
  }
}

export const theme = new ThemeState();

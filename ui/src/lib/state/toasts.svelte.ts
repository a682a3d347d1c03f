// Short confirmations and failures of actions, read out by the aria-live region that shows them.

export type ToastKind = "success" | "error" | "info";

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

const LIFETIME_MS: Record<ToastKind, number> = { success: 4000, info: 5000, error: 8000 };
const MAX_VISIBLE = 4;

class Toasts {
  items = $state.raw<Toast[]>([]);
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  show(kind: ToastKind, message: string): number {
    const id = this.#next++;
    const items = [...this.items, { id, kind, message }];
    for (const dropped of items.slice(0, Math.max(0, items.length - MAX_VISIBLE))) {
      this.#clearTimer(dropped.id);
    }
    this.items = items.slice(-MAX_VISIBLE);
    this.#timers.set(
      id,
      setTimeout(() => this.dismiss(id), LIFETIME_MS[kind]),
    );
    return id;
  }

  success(message: string): number {
    return this.show("success", message);
  }

  error(message: string): number {
    return this.show("error", message);
  }

  dismiss(id: number): void {
    this.#clearTimer(id);
    this.items = this.items.filter((t) => t.id !== id);
  }

  #clearTimer(id: number): void {
    const timer = this.#timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(id);
  }
}

export const toasts = new Toasts();

// The bell's notices (written by the core, kept across restarts): refetched when the shell says
// there are new ones; read when opened or marked. And which kinds reach the OS (Settings).

import {
  commands,
  events,
  type Notice,
  type NoticeKind,
  type NoticeSwitch,
} from "$lib/api/bindings";

class NoticesState {
  list = $state.raw<Notice[]>([]);
  unread = $state(0);
  #unlisten: (() => void) | null = null;

  async start(): Promise<void> {
    await this.refresh();
    if (!this.#unlisten) {
      try {
        this.#unlisten = await events.noticesChanged.listen(() => void this.refresh());
      } catch {
        // Outside the app window there are no events to hear.
      }
    }
  }

  async refresh(): Promise<void> {
    try {
      const page = await commands.listNotices();
      this.list = page.notices;
      this.unread = page.unread;
    } catch {
      // The bell keeps what it had rather than showing an error.
    }
  }

  /** Marks `ids` read, or every notice without. */
  async markRead(ids?: number[]): Promise<void> {
    const page = await commands.markNoticesRead(ids ?? null);
    this.list = page.notices;
    this.unread = page.unread;
  }

  switches(): Promise<NoticeSwitch[]> {
    return commands.noticeSwitches();
  }

  setSwitch(kind: NoticeKind, os: boolean): Promise<NoticeSwitch[]> {
    return commands.setNoticeSwitch(kind, os);
  }
}

export const notices = new NoticesState();

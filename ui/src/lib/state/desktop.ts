// What the desktop app does around its window (Settings → Desktop). Nothing here is shared
// between components, so nothing is kept: each call asks the backend.

import { commands, type DesktopSettings } from "$lib/api/bindings";

export const desktop = {
  settings(): Promise<DesktopSettings> {
    return commands.desktopSettings();
  },

  save(settings: DesktopSettings): Promise<DesktopSettings> {
    return commands.setDesktopSettings(settings);
  },

  /** Whether the OS starts the app at login (its autostart entry). */
  startAtLogin(): Promise<boolean> {
    return commands.startAtLogin();
  },

  setStartAtLogin(on: boolean): Promise<boolean> {
    return commands.setStartAtLogin(on);
  },
};

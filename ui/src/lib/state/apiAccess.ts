// The local API: the workspace key scripts authenticate with, and the port it listens on.
// Nothing here is shared between components, so nothing is kept: each call asks the backend.

import { commands, type ApiKeyView, type ApiStatus } from "$lib/api/bindings";

export const apiAccess = {
  /** The key, redacted, and when it was made. */
  key(): Promise<ApiKeyView> {
    return commands.apiKey();
  },

  /** The key in clear (Owners and Admins). */
  revealKey(): Promise<string> {
    return commands.revealApiKey();
  },

  /** A new key; the old one stops working at once. */
  regenerateKey(): Promise<ApiKeyView> {
    return commands.regenerateApiKey();
  },

  /** Where the API listens, or why it does not. */
  status(): Promise<ApiStatus> {
    return commands.apiStatus();
  },

  /** Moves the API to `port` at once, and remembers it. */
  setPort(port: number): Promise<ApiStatus> {
    return commands.setApiPort(port);
  },
};

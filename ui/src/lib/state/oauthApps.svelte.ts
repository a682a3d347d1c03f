// The OAuth apps (client ID and secret per provider) and each provider's guide, for Settings and
// the connect dialog; and OAuth's notices (a stray sign-in link, secrets moved out of the
// providers file), shown as toasts without touching any dialog.

import { commands, events, type OAuthAppInput, type OAuthAppView } from "$lib/api/bindings";
import { toasts } from "$lib/state/toasts.svelte";

class OAuthAppsState {
  apps = $state.raw<OAuthAppView[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  #listening = false;

  /** Fetches every OAuth provider with its app (or none yet). */
  async refresh(): Promise<void> {
    try {
      this.apps = await commands.listOauthApps();
      this.error = null;
    } catch (error) {
      this.error = (error as { message?: string }).message ?? String(error);
    } finally {
      this.loaded = true;
    }
  }

  /** One provider's app and guide, fresh from the backend. */
  async get(provider: string): Promise<OAuthAppView> {
    const view = await commands.oauthApp(provider);
    this.#put(view);
    return view;
  }

  /** Saves an app; the list shows it at once. */
  async save(input: OAuthAppInput): Promise<OAuthAppView> {
    const view = await commands.saveOauthApp(input);
    this.#put(view);
    return view;
  }

  /** What removing an app does, to say before it is done. */
  removal(provider: string): Promise<string> {
    return commands.oauthAppRemoval(provider);
  }

  async remove(provider: string): Promise<void> {
    await commands.removeOauthApp(provider);
    await this.refresh();
  }

  openConsole(provider: string): Promise<null> {
    return commands.openOauthConsole(provider);
  }

  #put(view: OAuthAppView): void {
    const i = this.apps.findIndex((a) => a.provider === view.provider);
    this.apps = i < 0 ? [...this.apps, view] : this.apps.map((a, j) => (j === i ? view : a));
  }

  /** Shows OAuth's notices as toasts from now on (once per window). */
  async listen(): Promise<void> {
    if (this.#listening) return;
    this.#listening = true;
    try {
      await events.oauthNotice.listen((event) => {
        toasts.show("info", event.payload.message);
        void this.refresh();
      });
    } catch {
      // Outside the app window (unit tests) there are no events to hear.
    }
  }
}

export const oauthApps = new OAuthAppsState();

// The notification targets (Slack, Teams, Discord) as the Connected tab shows them: fetched on
// demand and again after each `notifyChanged` or `connectionsChanged` event; nothing polls.

import {
  commands,
  events,
  type NotifyTarget,
  type SlackChannel,
  type SlackSettings,
  type WebhookSettings,
} from "$lib/api/bindings";
import { coalesced } from "$lib/logic/refetch";

class NotifyState {
  targets = $state.raw<NotifyTarget[]>([]);
  #listening = false;

  /** Refetches; changes announced during a fetch lead to one more fetch, so the cards never
   *  end on an answer older than the last change. */
  async refresh(): Promise<void> {
    void this.#listen();
    await this.#fetch();
  }

  #fetch = coalesced(async () => {
    try {
      this.targets = await commands.listNotificationTargets();
    } catch {
      // Best effort: the cards still show their connections.
    }
  });

  target(provider: string): NotifyTarget | undefined {
    return this.targets.find((t) => t.provider === provider);
  }

  /** Puts a target the backend just returned in place at once. */
  upsert(target: NotifyTarget): void {
    this.targets = [...this.targets.filter((t) => t.provider !== target.provider), target];
  }

  remove(provider: string): void {
    this.targets = this.targets.filter((t) => t.provider !== provider);
  }

  /** The channels of the connected Slack workspace the bot can post to. */
  slackChannels(): Promise<SlackChannel[]> {
    return commands.listSlackChannels();
  }

  async configureSlack(settings: SlackSettings): Promise<NotifyTarget> {
    const target = await commands.configureSlack(settings);
    this.upsert(target);
    return target;
  }

  /** Connects Teams or Discord by its webhook URL, or changes its settings. */
  async configureWebhook(settings: WebhookSettings): Promise<NotifyTarget> {
    const target = await commands.configureWebhookTarget(settings);
    this.upsert(target);
    return target;
  }

  /** Disconnects Teams or Discord (Slack goes with its connection: `app.disconnect`). */
  async disconnect(provider: string): Promise<void> {
    await commands.removeNotificationTarget(provider);
    this.remove(provider);
  }

  /** Sends the failed notifications again. */
  async retry(provider: string): Promise<void> {
    this.upsert(await commands.retryNotifications(provider));
  }

  async #listen(): Promise<void> {
    if (this.#listening) return;
    this.#listening = true;
    try {
      await events.notifyChanged.listen(() => void this.refresh());
      await events.connectionsChanged.listen(() => void this.refresh());
    } catch {
      // Outside the app window (unit tests) there are no events to hear.
    }
  }
}

export const notify = new NotifyState();

/**
 * Keeps the store in step with the server: connects, loads the sidebar (conversations,
 * unread counts, presence), subscribes every conversation so its events move the badges,
 * feeds channel and personal events to the reducers (and `file.updated`, from either, to the
 * files held), looks up the people it meets, and refreshes what the personal topic does not
 * replay after every reconnect.
 */
import type { Channel, ColinkClient, User } from "@colink/client";
import { reportError } from "../logger.js";
import type { AppState, Conversation, FileInfo } from "./app-state.js";
import { applyChannelEvent } from "./channel-events.js";
import { isDirect } from "./conversation-name.js";
import type { FileLoader } from "./file-loader.js";
import { applyPersonalEvent } from "./personal-events.js";
import type { Store } from "./store.js";
import { freshUnread, unreadFromSummary } from "./unread.js";

const firstConnectRetryMs = 3000;

export class ChatSync {
  private readonly subscribed = new Set<string>();
  private readonly asked = new Set<string>();
  private readonly stops: Array<() => void> = [];
  private opened = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private unreadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly client: ColinkClient,
    readonly store: Store<AppState>,
    private readonly files: FileLoader,
  ) {}

  get myId(): string {
    return this.store.get().me?.id ?? "";
  }

  /** Connects and loads everything; after the first connection, drops are the SDK's to mend. */
  start(user: User | null): void {
    this.stopped = false;
    if (user) this.store.update((s) => ({ ...s, me: user, users: { ...s.users, [user.id]: user } }));
    this.stops.push(
      this.client.on("event", (topic, type, data) => this.onEvent(topic, type, data)),
      this.client.on("open", () => this.onOpen()),
      this.client.on("close", () => this.onConnectionChange()),
      this.client.on("reconnecting", () => this.onConnectionChange()),
      this.client.on("resync", (channelId) => this.forgetLog(channelId)),
      this.client.on("unsubscribed", (channelId) => this.dropConversation(channelId)),
    );
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.unreadTimer);
    for (const stop of this.stops) stop();
    this.stops.length = 0;
  }

  private connect(): void {
    this.client.connect().catch((error) => {
      // The SDK does not retry a first connection that fails: keep trying while signed in.
      reportError("connecting", error);
      this.store.update((s) => ({ ...s, connection: "offline" }));
      if (!this.stopped) this.retryTimer = setTimeout(() => this.connect(), firstConnectRetryMs);
    });
  }

  private onConnectionChange(): void {
    const connection = this.client.state === "open" ? "open" : this.opened ? "offline" : "connecting";
    this.store.update((s) => (s.connection === connection ? s : { ...s, connection }));
  }

  private onOpen(): void {
    this.opened = true;
    this.onConnectionChange();
    // Typing indicators are not replayed: drop them; the lists are read again.
    this.store.update((s) => ({ ...s, typing: {} }));
    this.files.refreshUnsettled();
    void this.refresh();
  }

  /** Loads (or reloads, after a reconnect) the profile, conversations, unread counts and presence. */
  async refresh(): Promise<void> {
    try {
      if (!this.store.get().me) {
        const { user } = await this.client.request("user.me", {});
        this.store.update((s) => ({ ...s, me: user, users: { ...s.users, [user.id]: user } }));
      }
      const { channels } = await this.client.request("ch.list", {});
      this.store.update((s) => ({
        ...s,
        conversations: Object.fromEntries(channels.map((c) => [c.id, c])),
      }));
      await Promise.all(channels.map((c) => this.subscribe(c.id)));
      await Promise.all(channels.filter(isDirect).map((c) => this.loadMembers(c.id)));
      await this.refreshUnread();
      await this.refreshPresence();
    } catch (error) {
      reportError("loading conversations", error);
    }
  }

  /** Adds a conversation the user just created, joined or opened, and follows its events. */
  async addConversation(channel: Channel, myRole: Conversation["myRole"]): Promise<void> {
    this.store.update((s) => ({
      ...s,
      conversations: { ...s.conversations, [channel.id]: { ...channel, myRole } },
      unread: s.unread[channel.id] ? s.unread : { ...s.unread, [channel.id]: freshUnread(channel.lastSeq) },
    }));
    await this.subscribe(channel.id);
    if (isDirect(channel)) {
      await this.loadMembers(channel.id);
      await this.refreshPresence();
    }
  }

  private async subscribe(channelId: string): Promise<void> {
    if (this.subscribed.has(channelId)) return;
    this.subscribed.add(channelId);
    try {
      await this.client.subscribe(channelId, () => {});
    } catch (error) {
      this.subscribed.delete(channelId);
      reportError(`subscribing to ${channelId}`, error);
    }
  }

  /** Loads a conversation's members (and their profiles). */
  async loadMembers(channelId: string): Promise<void> {
    const { members } = await this.client.request("ch.members", { channelId });
    const ids = members.map((m) => m.userId);
    this.store.update((s) => ({ ...s, members: { ...s.members, [channelId]: ids } }));
    await this.ensureUsers(ids);
  }

  /** Fetches the profiles not seen yet. */
  async ensureUsers(userIds: readonly string[]): Promise<void> {
    const missing = [...new Set(userIds)].filter((id) => !this.asked.has(id) && !this.store.get().users[id]);
    for (const id of missing) this.asked.add(id);
    const found = await Promise.all(
      missing.map((userId) =>
        this.client.request("user.get", { userId }).then(
          (r) => r.user,
          (error) => {
            reportError(`looking up user ${userId}`, error);
            return null;
          },
        ),
      ),
    );
    const users = found.filter((u): u is User => u !== null);
    if (users.length > 0) {
      this.store.update((s) => ({
        ...s,
        users: { ...s.users, ...Object.fromEntries(users.map((u) => [u.id, u])) },
      }));
    }
  }

  async refreshUnread(): Promise<void> {
    const { channels } = await this.client.request("unread.summary", {});
    const latest = Object.fromEntries(
      Object.values(this.store.get().conversations).map((c) => [c.id, c.lastSeq]),
    );
    for (const id of this.subscribed) latest[id] = Math.max(latest[id] ?? 0, this.client.lastSeqOf(id) ?? 0);
    this.store.update((s) => ({ ...s, unread: unreadFromSummary(channels, latest) }));
  }

  /** Asks for a fresh summary soon (several events in a row ask once). */
  private refreshUnreadSoon(): void {
    clearTimeout(this.unreadTimer);
    this.unreadTimer = setTimeout(() => {
      this.refreshUnread().catch((error) => reportError("refreshing unread counts", error));
    }, 300);
  }

  private async refreshPresence(): Promise<void> {
    const s = this.store.get();
    const ids = [...new Set([s.me?.id ?? "", ...Object.values(s.members).flat()])].filter((id) => id !== "");
    if (ids.length === 0) return;
    const { presence } = await this.client.request("presence.query", { userIds: ids.slice(0, 500) });
    this.store.update((st) => ({
      ...st,
      presence: { ...st.presence, ...Object.fromEntries(presence.map((p) => [p.userId, p.status])) },
    }));
  }

  private onEvent(topic: string, type: string, data: Record<string, unknown>): void {
    // On the channel's topic once shared there, and on the uploader's own.
    if (type === "file.updated") {
      this.files.onUpdated(data.file as FileInfo);
      return;
    }
    if (topic.startsWith("ch:")) {
      const channelId = topic.slice(3);
      this.store.update((s) => applyChannelEvent(s, channelId, type, data));
      const message = data.message as { authorId?: string } | undefined;
      if (type === "message.created" && message?.authorId) void this.ensureUsers([message.authorId]);
      return;
    }
    let refreshUnread = false;
    this.store.update((s) => {
      const outcome = applyPersonalEvent(s, type, data);
      refreshUnread = outcome.refreshUnread;
      return outcome.state;
    });
    if (refreshUnread) this.refreshUnreadSoon();
    if (type === "dm.opened") {
      const channel = data.channel as Channel;
      void this.addConversation(channel, "member").catch((error) => reportError("adding a new DM", error));
    }
  }

  /** After a resync the held messages may miss some: drop them; the open view reloads. */
  private forgetLog(channelId: string): void {
    this.store.update((s) => {
      const { [channelId]: _dropped, ...logs } = s.logs;
      return { ...s, logs };
    });
  }

  /** The server ended the subscription (kicked, or the channel became unreadable). */
  private dropConversation(channelId: string): void {
    this.subscribed.delete(channelId);
    this.store.update((s) => {
      const { [channelId]: _gone, ...conversations } = s.conversations;
      return { ...s, conversations };
    });
  }
}

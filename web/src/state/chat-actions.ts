/**
 * What the screens ask of the server: loading history and threads, sending (optimistic,
 * reconciled by clientMsgId), editing, reacting, pinning, scheduling, marking read, and
 * creating, joining and opening conversations; searching. Each updates the store with the answer;
 * failures become a notice the user sees.
 */
import {
  type ArgsOf,
  type Channel,
  type ColinkClient,
  type Message,
  newClientMsgId,
  type ResultOf,
  type User,
} from "@colink/client";
import { errorMessage, reportError } from "../logger.js";
import {
  type AppState,
  emptyLog,
  type HeldMessage,
  type MessageLog,
  type ScheduledMessage,
  type ThreadLog,
} from "./app-state.js";
import type { ChatSync } from "./chat-sync.js";
import {
  addConfirmed,
  addHistory,
  addNewerHistory,
  addPending,
  coversSeq,
  historyAround,
  pendingMessage,
  setPendingState,
} from "./message-log.js";
import type { Store } from "./store.js";
import { shouldSendTyping, typingIntervalMs } from "./typing.js";

const pageSize = 50;
/** Replies read when a thread opens (pages of 200). */
const maxThreadPages = 10;

/** A draft's key: the conversation's id, or the thread's root id for its reply box. */
export function draftKey(channelId: string, threadRootId: string | null): string {
  return threadRootId === null ? channelId : `${channelId}/${threadRootId}`;
}

export class ChatActions {
  private readonly typingSentAt = new Map<string, number>();
  private readonly typingLater = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly readMarkSent = new Map<string, number>();

  constructor(
    private readonly client: ColinkClient,
    private readonly store: Store<AppState>,
    private readonly sync: ChatSync,
  ) {}

  private get myId(): string {
    return this.store.get().me?.id ?? "";
  }

  /** Runs a request; on failure shows why and resolves to null. */
  private async attempt<T>(doing: string, run: () => Promise<T>): Promise<T | null> {
    try {
      return await run();
    } catch (error) {
      reportError(doing, error);
      this.store.update((s) => ({ ...s, notice: `Could not ${doing}: ${errorMessage(error)}` }));
      return null;
    }
  }

  dismissNotice(): void {
    this.store.update((s) => ({ ...s, notice: null }));
  }

  // ------------------------------------------------------------------ reading

  /** Opening a conversation: remembers where "New messages" goes, and loads its members (for @mentions). */
  async openConversation(channelId: string): Promise<void> {
    this.store.update((s) => {
      const unread = s.unread[channelId];
      const { [channelId]: _old, ...anchors } = s.unreadAnchor;
      const unreadAnchor =
        unread && unread.unread > 0 ? { ...anchors, [channelId]: unread.lastReadSeq } : anchors;
      return { ...s, unreadAnchor };
    });
    if (!this.store.get().members[channelId]) {
      await this.sync.loadMembers(channelId).catch((error) => reportError("loading members", error));
    }
  }

  async loadLatest(channelId: string): Promise<void> {
    await this.loadHistory(channelId, "load messages", { channelId, limit: pageSize });
  }

  /** The page before the oldest message held (infinite scroll upward). */
  async loadOlder(channelId: string): Promise<void> {
    const log = this.store.get().logs[channelId];
    const oldest = log?.messages.find((m) => m.pending === undefined);
    if (!log?.hasOlder || !oldest) return;
    await this.loadHistory(channelId, "load older messages", {
      channelId,
      beforeSeq: oldest.seq,
      limit: pageSize,
    });
  }

  /** The page after the newest message held, when the log is a window short of the end (infinite scroll downward). */
  async loadNewer(channelId: string): Promise<void> {
    const log = this.store.get().logs[channelId];
    const newest = log?.messages.filter((m) => m.pending === undefined).at(-1);
    if (!log?.hasNewer || !newest) return;
    const args = { channelId, afterSeq: newest.seq, limit: pageSize };
    const page = await this.attempt("load newer messages", () => this.client.request("msg.history", args));
    if (!page) return;
    await this.sync.ensureUsers(page.messages.map((m) => m.authorId));
    this.changeLog(channelId, (log) => addNewerHistory(log, page.messages, page.hasMore));
  }

  /**
   * Makes the conversation's message `seq` (opened by link, a search hit) part of its log:
   * unless its stretch of history is held already, the log becomes the pages around it.
   */
  async showMessage(channelId: string, seq: number): Promise<void> {
    const held = this.store.get().logs[channelId];
    if (held && coversSeq(held, seq)) return;
    const pages = await this.attempt("load the message", () =>
      Promise.all([
        this.client.request("msg.history", { channelId, beforeSeq: seq + 1, limit: pageSize }),
        this.client.request("msg.history", { channelId, afterSeq: seq, limit: pageSize }),
      ]),
    );
    if (!pages) return;
    const [older, newer] = pages;
    await this.sync.ensureUsers([...older.messages, ...newer.messages].map((m) => m.authorId));
    this.changeLog(channelId, (log) => historyAround(log, older, newer));
  }

  /** One page of `msg.history`, merged into the conversation's log with its authors known. */
  private async loadHistory(channelId: string, what: string, args: ArgsOf<"msg.history">): Promise<void> {
    const page = await this.attempt(what, () => this.client.request("msg.history", args));
    if (!page) return;
    await this.sync.ensureUsers(page.messages.map((m) => m.authorId));
    this.changeLog(channelId, (log) => addHistory(log, page.messages, page.hasMore));
  }

  private changeLog(channelId: string, change: (log: MessageLog) => MessageLog): void {
    this.store.update((s) => ({
      ...s,
      logs: { ...s.logs, [channelId]: change(s.logs[channelId] ?? emptyLog) },
    }));
  }

  async openThread(channelId: string, rootId: string): Promise<void> {
    const result = await this.attempt("load the thread", async () => {
      let first = await this.client.request("thread.history", { channelId, rootId, limit: 200 });
      const replies = [...first.messages];
      for (let page = 1; first.hasMore && page < maxThreadPages; page++) {
        first = await this.client.request("thread.history", {
          channelId,
          rootId,
          afterSeq: replies[replies.length - 1]!.seq,
          limit: 200,
        });
        replies.push(...first.messages);
      }
      return { root: first.root, replies };
    });
    if (!result) return;
    await this.sync.ensureUsers([result.root.authorId, ...result.replies.map((m) => m.authorId)]);
    this.store.update((s) => {
      const held = s.threads[rootId];
      const base: ThreadLog = held ?? { ...emptyLog, root: null, followChoice: null };
      return {
        ...s,
        threads: {
          ...s.threads,
          [rootId]: { ...addHistory(base, result.replies, false), root: result.root },
        },
      };
    });
  }

  /**
   * The user has seen the conversation to its end: move the read marker to the last event
   * delivered, once per new position (every session of the user then clears the badge).
   */
  markRead(channelId: string): void {
    const s = this.store.get();
    // A window short of the end (a search hit's) has not been read to the end.
    if (s.logs[channelId]?.hasNewer) return;
    const unread = s.unread[channelId];
    const newest = s.logs[channelId]?.messages.filter((m) => m.pending === undefined).at(-1)?.seq ?? 0;
    const seq = Math.max(newest, this.client.lastSeqOf(channelId) ?? 0);
    if (!unread || seq <= unread.lastReadSeq || seq <= (this.readMarkSent.get(channelId) ?? 0)) return;
    this.readMarkSent.set(channelId, seq);
    this.client.request("read.mark", { channelId, seq }).catch((error) => {
      this.readMarkSent.delete(channelId);
      reportError("marking as read", error);
    });
  }

  // ------------------------------------------------------------------ writing

  setDraft(key: string, text: string): void {
    this.store.update((s) => (s.drafts[key] === text ? s : { ...s, drafts: { ...s.drafts, [key]: text } }));
  }

  /**
   * Tells the others the user is typing, at most every 2 s (the server drops more). A
   * keystroke inside the window is sent when it ends, if the draft is still there, so a
   * short burst right after a send still shows.
   */
  typing(channelId: string, threadRootId: string | null): void {
    const key = draftKey(channelId, threadRootId);
    const now = Date.now();
    const last = this.typingSentAt.get(key);
    if (!shouldSendTyping(last, now)) {
      if (!this.typingLater.has(key) && last !== undefined) {
        const timer = setTimeout(
          () => {
            this.typingLater.delete(key);
            if ((this.store.get().drafts[key] ?? "").trim() !== "") this.typing(channelId, threadRootId);
          },
          typingIntervalMs - (now - last),
        );
        this.typingLater.set(key, timer);
      }
      return;
    }
    this.typingSentAt.set(key, now);
    const args = threadRootId === null ? { channelId } : { channelId, threadRootId };
    this.client.request("typing", args).catch((error) => reportError("sending typing", error));
  }

  /**
   * Sends at once on screen (pending), then for real; the ack or the event replaces it.
   * `fileIds` are uploaded files (FileUploads) the message carries.
   */
  send(channelId: string, text: string, threadRootId: string | null, fileIds: readonly string[] = []): void {
    if (threadRootId === null && this.store.get().logs[channelId]?.hasNewer) this.jumpToLatest(channelId);
    const clientMsgId = newClientMsgId();
    const message = {
      ...pendingMessage(this.myId, channelId, text, clientMsgId, threadRootId, Date.now()),
      files: [...fileIds],
    };
    this.changeLogOf(message, (log) => addPending(log, message));
    void this.deliver(message);
  }

  /** Leaves a window of older history for the newest messages (sending there shows one's message). */
  private jumpToLatest(channelId: string): void {
    this.changeLog(channelId, () => ({ ...emptyLog, loaded: true, hasOlder: true }));
    void this.loadLatest(channelId);
  }

  /** Sends a failed message again with the same clientMsgId (the server stores it once). */
  retry(message: HeldMessage): void {
    this.changeLogOf(message, (log) => setPendingState(log, message.clientMsgId, "sending"));
    void this.deliver(message);
  }

  private async deliver(message: HeldMessage): Promise<void> {
    try {
      // The SDK retries across reconnects with the same clientMsgId: the server stores it once.
      const { message: sent } = await this.client.send(message.channelId, message.text, {
        clientMsgId: message.clientMsgId,
        ...(message.threadRootId === null ? {} : { threadRootId: message.threadRootId }),
        ...(message.files.length === 0 ? {} : { fileIds: message.files }),
      });
      this.changeLogOf(message, (log) => addConfirmed(log, sent));
    } catch (error) {
      reportError("sending a message", error);
      this.changeLogOf(message, (log) => setPendingState(log, message.clientMsgId, "failed"));
    }
  }

  /** Changes the log that holds this message: its thread's, or its conversation's. */
  private changeLogOf(
    message: HeldMessage,
    change: <L extends ThreadLog | AppState["logs"][string]>(log: L) => L,
  ): void {
    this.store.update((s) => {
      if (message.threadRootId !== null) {
        const thread = s.threads[message.threadRootId];
        return thread ? { ...s, threads: { ...s.threads, [message.threadRootId]: change(thread) } } : s;
      }
      const log = s.logs[message.channelId] ?? { ...emptyLog, loaded: true };
      return { ...s, logs: { ...s.logs, [message.channelId]: change(log) } };
    });
  }

  async edit(message: Message, text: string): Promise<boolean> {
    const done = await this.attempt("edit the message", () =>
      this.client.request("msg.edit", { channelId: message.channelId, messageId: message.id, text }),
    );
    return done !== null;
  }

  async remove(message: Message): Promise<void> {
    await this.attempt("delete the message", () =>
      this.client.request("msg.delete", { channelId: message.channelId, messageId: message.id }),
    );
  }

  /** Adds the reaction, or removes it when it is already the user's. */
  async toggleReaction(message: Message, emoji: string): Promise<void> {
    const mine = message.reactions.some((r) => r.emoji === emoji && r.me);
    const args = { channelId: message.channelId, messageId: message.id, emoji };
    await this.attempt("change the reaction", () =>
      mine ? this.client.request("react.remove", args) : this.client.request("react.add", args),
    );
  }

  async togglePin(message: Message): Promise<void> {
    const args = { channelId: message.channelId, messageId: message.id };
    await this.attempt(message.pinnedAt ? "unpin the message" : "pin the message", () =>
      message.pinnedAt ? this.client.request("pin.remove", args) : this.client.request("pin.add", args),
    );
  }

  async pinned(channelId: string): Promise<Message[]> {
    const result = await this.attempt("load pinned messages", () =>
      this.client.request("pin.list", { channelId }),
    );
    if (result) await this.sync.ensureUsers(result.messages.map((m) => m.authorId));
    return result?.messages ?? [];
  }

  async versions(message: Message) {
    const result = await this.attempt("load the edit history", () =>
      this.client.request("msg.versions", { channelId: message.channelId, messageId: message.id }),
    );
    return result?.versions ?? [];
  }

  async schedule(
    channelId: string,
    text: string,
    sendAt: number,
    threadRootId: string | null,
  ): Promise<boolean> {
    const args = { channelId, text, sendAt, clientMsgId: newClientMsgId(), threadRootId };
    return (
      (await this.attempt("schedule the message", () => this.client.request("msg.schedule", args))) !== null
    );
  }

  async scheduled(channelId: string): Promise<ScheduledMessage[]> {
    const result = await this.attempt("load scheduled messages", () =>
      this.client.request("msg.scheduled.list", { channelId }),
    );
    return result?.scheduled ?? [];
  }

  async cancelScheduled(channelId: string, scheduleId: string): Promise<boolean> {
    return (
      (await this.attempt("cancel the scheduled message", () =>
        this.client.request("msg.scheduled.cancel", { channelId, scheduleId }),
      )) !== null
    );
  }

  async setFollowing(channelId: string, rootId: string, follow: boolean): Promise<void> {
    const done = await this.attempt(follow ? "follow the thread" : "unfollow the thread", () =>
      this.client.request(follow ? "thread.follow" : "thread.unfollow", { channelId, rootId }),
    );
    if (done === null) return;
    this.store.update((s) => {
      const thread = s.threads[rootId];
      return thread ? { ...s, threads: { ...s.threads, [rootId]: { ...thread, followChoice: follow } } } : s;
    });
  }

  // ------------------------------------------------------------------ conversations

  async createChannel(name: string, kind: "public" | "private", topic: string): Promise<Channel | null> {
    const result = await this.attempt("create the channel", () =>
      this.client.request("ch.create", topic ? { name, kind, topic } : { name, kind }),
    );
    if (result) await this.sync.addConversation(result.channel, "owner");
    return result?.channel ?? null;
  }

  /** Public channels the user has not joined. */
  async joinable(): Promise<Channel[]> {
    const result = await this.attempt("list channels", () =>
      this.client.request("ch.list", { includePublic: true }),
    );
    return (result?.channels ?? []).filter((c) => c.myRole === null && c.kind === "public");
  }

  async join(channelId: string): Promise<Channel | null> {
    const result = await this.attempt("join the channel", () =>
      this.client.request("ch.join", { channelId }),
    );
    if (result) await this.sync.addConversation(result.channel, "member");
    return result?.channel ?? null;
  }

  async searchUsers(q: string): Promise<User[]> {
    const result = await this.attempt("search people", () =>
      this.client.request("search.users", { q, limit: 20 }),
    );
    return result?.users ?? [];
  }

  /** One page of search hits, their authors known. Throws on failure: the results view shows why. */
  async search(args: ArgsOf<"search">): Promise<ResultOf<"search">> {
    const result = await this.client.request("search", args);
    await this.sync.ensureUsers(result.hits.map((h) => h.authorId));
    return result;
  }

  /** Channels the user is not a member of (public ones a search found), for their names. */
  async lookUpChannels(channelIds: readonly string[]): Promise<Channel[]> {
    const found = await Promise.all(
      channelIds.map((channelId) =>
        this.client.request("ch.get", { channelId }).then(
          (r) => r.channel,
          (error) => {
            reportError(`looking up channel ${channelId}`, error);
            return null;
          },
        ),
      ),
    );
    return found.filter((c): c is Channel => c !== null);
  }

  async openDirect(userIds: string[]): Promise<Channel | null> {
    const result = await this.attempt("open the conversation", () =>
      this.client.request("dm.open", { userIds }),
    );
    if (result) await this.sync.addConversation(result.channel, "member");
    return result?.channel ?? null;
  }
}

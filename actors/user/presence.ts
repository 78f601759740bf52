/**
 * Presence as pure logic: how one user's sessions and chosen status make their presence,
 * and the book in which a thread keeps everyone's.
 *
 * Statuses (as in Slack and Mattermost): a user is `online` while at least one session
 * (WebSocket connection) is open, unless they chose `away` or `dnd`; with no session they
 * are `offline` whatever they chose. `dnd` survives going offline (it is a decision, as in
 * Slack); `away` does not: coming back from offline means being back.
 *
 * Heartbeat: a session ends when its connection closes. uWS closes a connection that
 * stays silent for `COLINK_IDLE_TIMEOUT_SEC` (default 60 s) and, since the gateway turns
 * on automatic pings, first pings it a few seconds before (4 to 16 s, depending on the
 * timeout), so a live client that answers pings stays connected, and a dead one (lost
 * network, killed tab) goes offline within the idle timeout. That is the heartbeat and
 * its expiry; clients send nothing for it (browsers answer pings on their own).
 *
 * Where presence lives: the user's own actor owns the sessions and the chosen status
 * (`SessionPresence`), so each change happens in one place, in order. Other users' actors
 * read it from their thread's `PresenceBook`, without asking that actor: the owner writes
 * its entry into its own thread's book, and with worker threads (W > 0) the host shares
 * the change through the main thread with every other thread's book. Per user, changes
 * come from one thread in order and ports keep order, so each book sees them in order.
 */
import type { Presence, PresenceStatus } from "../../core/types.js";

/** A status a user may choose (`offline` is never chosen: it means no session). */
export type ChosenStatus = "online" | "away" | "dnd";

/** One user's presence as a book keeps it: what others see, plus what the owner restores. */
export interface PresenceEntry extends Presence {
  /** The status the user chose that outlives their sessions (`dnd`), or null. */
  kept: "dnd" | null;
}

/** A change of one user's visible presence. */
export interface PresenceChange {
  presence: Presence;
  /** True when the user went from no session to one or from one to none. */
  onlineChanged: boolean;
}

/** One user's sessions and chosen status, and the presence they make. */
export class SessionPresence {
  private readonly sessions = new Set<string>();
  private chosen: "away" | "dnd" | null;
  private status: PresenceStatus;
  private since: number;

  /**
   * Starts with no session, from what the book remembers of this user (if anything). The
   * remembered status is kept until the next change: an actor that moved to another node
   * starts while the user's sessions are still being announced to it (`reconcile` settles).
   */
  constructor(
    readonly userId: string,
    remembered: PresenceEntry | undefined,
  ) {
    const status = remembered?.status ?? "offline";
    // `away` and `dnd` are only ever chosen, so a remembered one was the user's choice.
    this.chosen = status === "away" || status === "dnd" ? status : (remembered?.kept ?? null);
    this.status = status;
    this.since = remembered?.since ?? 0;
  }

  /** Recomputes the status from the sessions known now (after a move: the ones announced). */
  reconcile(now: number): PresenceChange | null {
    return this.settle(now);
  }

  /** The visible presence. */
  get presence(): Presence {
    return { userId: this.userId, status: this.status, since: this.since };
  }

  /** The book's entry for this user. */
  get entry(): PresenceEntry {
    return { ...this.presence, kept: this.chosen === "dnd" ? "dnd" : null };
  }

  /** True while at least one session is open. */
  get connected(): boolean {
    return this.sessions.size > 0;
  }

  /** Open sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** A session opened. Coming back from offline drops `away`. */
  connect(sessionId: string, now: number): PresenceChange | null {
    if (this.sessions.has(sessionId)) return null;
    if (this.sessions.size === 0 && this.chosen === "away") this.chosen = null;
    this.sessions.add(sessionId);
    return this.settle(now);
  }

  /** A session closed (unknown ids are ignored). */
  disconnect(sessionId: string, now: number): PresenceChange | null {
    if (!this.sessions.delete(sessionId)) return null;
    return this.settle(now);
  }

  /** Sessions whose ids start with `prefix` ended together (their node is gone). */
  disconnectAll(prefix: string, now: number): PresenceChange | null {
    let removed = false;
    for (const id of this.sessions) {
      if (id.startsWith(prefix)) removed = this.sessions.delete(id) || removed;
    }
    return removed ? this.settle(now) : null;
  }

  /** The user chose a status: `online` clears `away` and `dnd`. */
  choose(status: ChosenStatus, now: number): PresenceChange | null {
    this.chosen = status === "online" ? null : status;
    return this.settle(now);
  }

  /** Recomputes the visible status; a change moves `since`. */
  private settle(now: number): PresenceChange | null {
    const next: PresenceStatus = this.sessions.size === 0 ? "offline" : (this.chosen ?? "online");
    if (next === this.status) return null;
    const onlineChanged = (next === "offline") !== (this.status === "offline");
    this.status = next;
    this.since = now;
    return { presence: this.presence, onlineChanged };
  }
}

/**
 * One thread's view of everyone's presence. The owning actors write their user's entry
 * (`record`), which the book also hands to `share` for the other threads; entries shared
 * by other threads arrive through `apply`. Users not in the book are offline since an
 * unknown time (`since` 0). It keeps one small entry per user seen since start.
 */
export class PresenceBook {
  private readonly byUser = new Map<string, PresenceEntry>();

  constructor(private readonly share?: (entry: PresenceEntry) => void) {}

  /** The entry of a user, if the book has one. */
  get(userId: string): PresenceEntry | undefined {
    return this.byUser.get(userId);
  }

  /** What others see of a user. */
  view(userId: string): Presence {
    const e = this.byUser.get(userId);
    return e ? { userId, status: e.status, since: e.since } : { userId, status: "offline", since: 0 };
  }

  /** Records a change made by an actor of this thread and shares it. */
  record(entry: PresenceEntry): void {
    this.byUser.set(entry.userId, entry);
    this.share?.(entry);
  }

  /** Applies changes shared by other threads, in their order. */
  apply(list: PresenceEntry[]): void {
    for (const entry of list) this.byUser.set(entry.userId, entry);
  }

  /** Every entry, for a new owner of some users to check. */
  entries(): IterableIterator<PresenceEntry> {
    return this.byUser.values();
  }

  /** Users in the book. */
  get size(): number {
    return this.byUser.size;
  }
}

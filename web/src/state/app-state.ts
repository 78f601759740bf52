/**
 * The shape of the app's state: everything the screens show, fed by the SDK's events and
 * the answers to requests. Updated only by pure functions (state/*.ts) through the store.
 */
import type { Message, ResultOf, User } from "@colink/client";

/** A conversation of the sidebar: a channel listing as `ch.list` answers it. */
export type Conversation = ResultOf<"ch.list">["channels"][number];

/** A user's presence status. */
export type PresenceStatus = ResultOf<"presence.query">["presence"][number]["status"];

/** A scheduled message. */
export type ScheduledMessage = ResultOf<"msg.scheduled.list">["scheduled"][number];

/** A message as the screens hold it: pending ones are ours, not acknowledged yet. */
export interface HeldMessage extends Message {
  /** `sending` until the ack or the event arrives; `failed` once the SDK gave up. */
  pending?: "sending" | "failed";
}

/** One conversation's unread state, as `unread.summary` answers it and events move it. */
export interface UnreadState {
  lastReadSeq: number;
  unread: number;
  mentions: number;
  /** The newest seq known in the channel: a read marker at or past it clears the counts. */
  latestSeq: number;
}

/** The messages of a conversation or of a thread that the screens have loaded. */
export interface MessageLog {
  /** Acknowledged messages ascending by seq, then our pending ones in the order sent. */
  messages: HeldMessage[];
  /** Older messages exist on the server (top-level history only). */
  hasOlder: boolean;
  /**
   * Newer messages exist on the server than those held: the log is a window opened around
   * an older message (a search hit). New messages are not added until it reaches the end.
   */
  hasNewer: boolean;
  loaded: boolean;
}

/** An open thread: its root and its replies. */
export interface ThreadLog extends MessageLog {
  root: HeldMessage | null;
  /** Follow or Unfollow chosen in this session; until then, participants follow. */
  followChoice: boolean | null;
}

/** Someone typing in a conversation, until `expiresAt`. */
export interface TypingEntry {
  userId: string;
  expiresAt: number;
  threadRootId: string | null;
}

/** The connection as the banner sees it. */
export type ConnectionStatus = "connecting" | "open" | "offline";

export interface AppState {
  me: User | null;
  connection: ConnectionStatus;
  /** The conversations the user is a member of, by id. */
  conversations: Record<string, Conversation>;
  /** Members' user ids per conversation: loaded at start for DMs (their names), on demand for others. */
  members: Record<string, string[]>;
  unread: Record<string, UnreadState>;
  presence: Record<string, PresenceStatus>;
  /** Profiles seen so far, by user id. */
  users: Record<string, User>;
  /** Top-level messages per conversation id. */
  logs: Record<string, MessageLog>;
  /** Threads per root message id. */
  threads: Record<string, ThreadLog>;
  typing: Record<string, TypingEntry[]>;
  /** What the user typed and has not sent, per composer key (conversation, or thread). */
  drafts: Record<string, string>;
  /** The read marker when the conversation was opened, if it had unread messages: where "New messages" goes. */
  unreadAnchor: Record<string, number>;
  /** An error to show the user (an action that failed). */
  notice: string | null;
}

export const initialAppState: AppState = {
  me: null,
  connection: "connecting",
  conversations: {},
  members: {},
  notice: null,
  unread: {},
  presence: {},
  users: {},
  logs: {},
  threads: {},
  typing: {},
  drafts: {},
  unreadAnchor: {},
};

/** An empty log: nothing loaded yet. */
export const emptyLog: MessageLog = { messages: [], hasOlder: false, hasNewer: false, loaded: false };

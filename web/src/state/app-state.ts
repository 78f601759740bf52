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

/** `file.get`'s answer: a file's metadata, and its URLs while it may be served. */
export type FileDetails = ResultOf<"file.get">;

/** A file's metadata (`FileInfo`), as `file.get` and `file.updated` carry it. */
export type FileInfo = FileDetails["file"];

/** A file a message carries, as the screens hold it (cached per file id). */
export interface HeldFile {
  /** `file.get`'s last answer (its status moved on by `file.updated`); null until the first. */
  details: FileDetails | null;
  /** `file.get` answered not_found: the file is gone, or was never shared with the user. */
  missing: boolean;
  /** A `file.updated` changed it since that answer: `file.get` is asked again for its URLs. */
  stale: boolean;
}

/** A file attached in a composer, before its message is sent. */
export interface Attachment {
  /** This attachment's key in the composer (the file id comes later, from `file.begin`). */
  id: string;
  name: string;
  size: number;
  contentType: string;
  /** Bytes uploaded so far. */
  sent: number;
  /** From `file.begin`; null until it answers. */
  fileId: string | null;
  /** `file.complete` answered: the file can go with the message. */
  ready: boolean;
}

/**
 * The signed-in user's avatar being changed (state/avatar-changer.ts), as its dialog shows
 * it: uploading with progress, waiting for the virus scan, linking it to the profile,
 * removing it, done, or failed (and why).
 */
export type AvatarChange =
  | { step: "uploading"; name: string; size: number; sent: number }
  | { step: "scanning"; name: string }
  | { step: "saving"; name: string }
  | { step: "removing" }
  | { step: "done"; removed: boolean }
  | { step: "failed"; message: string };

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
  /** Files that messages carry, by file id (`file.get`, refreshed by `file.updated` and before the URLs expire). */
  files: Record<string, HeldFile>;
  /** Files attached and not sent yet, per composer key (as `drafts`). */
  attachments: Record<string, Attachment[]>;
  /** Why the last attachment failed (`file.begin` refused it, its upload failed), per composer key. */
  attachError: Record<string, string>;
  /** The signed-in user's avatar being changed, or how the last change ended; null when nothing is under way. */
  avatarChange: AvatarChange | null;
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
  files: {},
  attachments: {},
  attachError: {},
  avatarChange: null,
  unreadAnchor: {},
};

/** An empty log: nothing loaded yet. */
export const emptyLog: MessageLog = { messages: [], hasOlder: false, hasNewer: false, loaded: false };

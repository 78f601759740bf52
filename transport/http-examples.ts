/**
 * Sample values for the OpenAPI document's examples. Typed with the domain types, and
 * checked against the op schemas by the tests (transport/openapi.test.ts).
 */
import { newMessage } from "../core/message-rules.js";
import type {
  AuditEntry,
  Channel,
  FileInfo,
  Flag,
  Member,
  Message,
  MessageVersion,
  Presence,
  Scheduled,
  SearchHit,
  Unread,
  User,
  UserSettings,
} from "../core/types.js";

const at = 1_767_225_600_000; // 2026-01-01T00:00:00Z

/** The caller of the examples. */
export const alice = {
  id: "U01KDX8Q4ZAL1CE0000000",
  username: "alice",
  displayName: "Alice Martin",
  role: "member",
  title: "Engineer",
  timeZone: "Europe/Paris",
  avatarFileId: null,
  deactivated: false,
  createdAt: at,
} satisfies User;

/** Another user. */
export const bob = {
  ...alice,
  id: "U01KDX8Q4ZB0B00000000",
  username: "bob",
  displayName: "Bob Chen",
  title: "",
  timeZone: "",
} satisfies User;

/** A public channel. */
export const channel = {
  id: "C01KDX8Q5GENERA100000",
  name: "general",
  kind: "public",
  topic: "Company-wide news",
  createdBy: alice.id,
  createdAt: at,
  archived: false,
  lastSeq: 42,
  memberCount: 12,
} satisfies Channel;

/** The DM of alice and bob. */
export const dm = {
  ...channel,
  id: "C01KDX8Q6DMA11CEB0B00",
  name: "",
  kind: "dm",
  topic: "",
  lastSeq: 1,
  memberCount: 2,
} satisfies Channel;

/** A member. */
export const member = { userId: bob.id, role: "member", joinedAt: at } satisfies Member;

/** A top-level message. */
export const message = {
  ...newMessage({
    id: "M01KDX8Q7HE11O0000000",
    channelId: channel.id,
    seq: 42,
    authorId: alice.id,
    text: "Hello @bob",
    clientMsgId: "6f1c2d9e-2b1a-4c55-9a1e-0c8a5d1b7f10",
    createdAt: at + 60_000,
  }),
  mentions: [bob.id],
} satisfies Message;

/** A search hit: the message above, found by "hello". */
export const hit = {
  messageId: message.id,
  channelId: message.channelId,
  seq: message.seq,
  authorId: message.authorId,
  createdAt: message.createdAt,
  threadRootId: null,
  snippet: message.text,
  marks: [[0, 5]],
} satisfies SearchHit;

/** The message after an edit. */
export const edited = { ...message, text: "Hello @bob!", editedAt: at + 120_000 } satisfies Message;

/** The message with a reaction of the caller. */
export const reacted = {
  ...message,
  reactions: [{ emoji: "thumbsup", count: 1, me: true }],
} satisfies Message;

/** The message, pinned. */
export const pinned = { ...message, pinnedAt: at + 180_000, pinnedBy: bob.id } satisfies Message;

/** The message as a thread root with one reply. */
export const root = {
  ...message,
  replyCount: 1,
  lastReplyAt: at + 240_000,
  threadParticipants: [alice.id, bob.id],
} satisfies Message;

/** The reply. */
export const reply = {
  ...message,
  id: "M01KDX8Q8REP1Y0000000",
  seq: 44,
  authorId: bob.id,
  text: "Hi!",
  clientMsgId: "b0b-1",
  createdAt: at + 240_000,
  threadRootId: message.id,
  mentions: [],
} satisfies Message;

/** The original text of the edited message. */
export const version = {
  messageId: message.id,
  version: 1,
  text: message.text,
  editedAt: edited.editedAt,
} satisfies MessageVersion;

/** A pending scheduled message. */
export const scheduled = {
  id: "S01KDX8Q9SCHED0000000",
  channelId: channel.id,
  authorId: alice.id,
  text: "Stand-up in 5 minutes",
  clientMsgId: "standup-2026-01-02",
  threadRootId: null,
  sendAt: at + 86_400_000,
  status: "pending",
  messageId: null,
} satisfies Scheduled;

/** Settings. */
export const settings = {
  theme: "dark",
  language: "en",
  notify: { [channel.id]: "mentions" },
} satisfies UserSettings;

/** One channel's unread state. */
export const unread = {
  channelId: channel.id,
  lastReadSeq: 40,
  unread: 2,
  mentions: 1,
  threads: 0,
} satisfies Unread;

/** Bob's presence. */
export const presence = { userId: bob.id, status: "online", since: at } satisfies Presence;

/** A clean image alice uploaded to the channel. */
export const file = {
  id: `F01KDX8Q9F11E00000000_${channel.id}`,
  channelId: channel.id,
  uploaderId: alice.id,
  name: "whiteboard.png",
  contentType: "image/png",
  size: 482_113,
  status: "clean",
  thumbnails: [
    { size: "small", width: 96, height: 72 },
    { size: "medium", width: 480, height: 360 },
  ],
  createdAt: at + 30_000,
} satisfies FileInfo;

/** A signed URL of the local disk's (S3's are presigned S3 URLs). */
export const blobUrl = (bucket: string, key: string) =>
  `/v1/blobs/${bucket}/${key}?exp=1767229200&sig=kX1mJ2yq0h3X9cQ2Jv4d8bVbq1c9Cz2cWm3o3m4k5aQ`;

// ---- moderation (issue 23) ----

/** A moderator (the caller of the admin examples). */
export const moderator = {
  ...alice,
  id: "U01KDX8Q4ZM0DE0000000",
  username: "mod",
  displayName: "Morgan Diaz",
  role: "moderator",
} satisfies User;

/** A message a moderator removed, as members see it. */
export const removed = {
  ...message,
  text: "",
  mentions: [],
  deletedAt: at + 300_000,
} satisfies Message;

/** An open flag of `message`, by bob. */
export const flag = {
  id: `G01KDX8Q9F1AG00000000_${channel.id}`,
  messageId: message.id,
  channelId: channel.id,
  reporterId: bob.id,
  reason: "spam",
  createdAt: at + 240_000,
  status: "open",
} satisfies Flag;

/** `flag` resolved by the moderator, who removed the message (moderators still see its text). */
export const resolvedFlag = {
  ...flag,
  status: "resolved",
  resolution: "removed",
  resolvedBy: moderator.id,
  resolvedAt: at + 300_000,
  note: "advertising",
  message: { ...removed, text: message.text, mentions: message.mentions },
} satisfies Flag;

/** An audit entry: an admin deactivated bob. */
export const auditEntry = {
  id: "42",
  at: at + 60_000,
  actorId: alice.id,
  action: "user.deactivate",
  target: bob.id,
  details: { username: bob.username, changed: true },
  ip: "203.0.113.7",
  requestId: "0f8fad5b-d9cb-469f-a165-70867728950e",
  prevHash: "9f2c4b1e8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b",
  hash: "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29",
} satisfies AuditEntry;

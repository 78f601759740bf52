/**
 * The unit of group commit inside one ChannelActor: the durable changes of a run of
 * requests, and the outputs (replies, events, revocations) that may leave only once
 * those changes are committed.
 */
import type {
  AuditRecord,
  ChannelRecord,
  ChannelWrite,
  MemberRecord,
  ReactionRow,
  RemovedOriginal,
  StoredMessage,
  ThreadFollow,
} from "../../core/ports.js";
import type { ChannelEvent, ChannelEventType, Flag, MessageVersion, Scheduled } from "../../core/types.js";
import type { Envelope, Grant, Outcome } from "../envelope.js";

/** One output, released in order after commit. */
export type Output =
  | { kind: "reply"; callId: number; outcome: Outcome; grant?: Grant }
  | { kind: "publish"; frame: Uint8Array; topic?: string }
  | { kind: "revoke"; userId: string };

/** Writes and outputs of a run of requests to one channel. */
export class ChannelBatch {
  /** Every envelope handled into this batch, so it can be handled again after a reset. */
  readonly envelopes: Envelope[] = [];
  readonly outputs: Output[] = [];
  readonly events: ChannelEvent[] = [];
  /** The frame of each of `events`, at the same index. */
  private readonly frames: Uint8Array[] = [];
  private readonly created = new Map<string, StoredMessage>();
  private readonly changed = new Map<string, StoredMessage>();
  private readonly upserts = new Map<string, MemberRecord>();
  private readonly removals = new Set<string>();
  private readonly addedReactions: ReactionRow[] = [];
  private readonly removedReactions: ReactionRow[] = [];
  private readonly versions: MessageVersion[] = [];
  private readonly follows = new Map<string, ThreadFollow>();
  private readonly schedules = new Map<string, Scheduled>();
  private readonly flags = new Map<string, Flag>();
  private readonly originals: RemovedOriginal[] = [];
  private readonly audit: AuditRecord[] = [];

  /** True when committing this batch would write nothing. */
  get isReadOnly(): boolean {
    return (
      this.events.length === 0 &&
      this.upserts.size === 0 &&
      this.removals.size === 0 &&
      this.follows.size === 0 &&
      this.schedules.size === 0 &&
      this.flags.size === 0 &&
      this.audit.length === 0
    );
  }

  /** True when it holds nothing at all. */
  get isEmpty(): boolean {
    return this.envelopes.length === 0 && this.outputs.length === 0;
  }

  /** Records a new log entry; its frame is published after commit. */
  appendEvent(event: ChannelEvent, frame: Uint8Array): void {
    this.events.push(event);
    this.frames.push(frame);
    this.outputs.push({ kind: "publish", frame });
  }

  /** The frame of the event at `seq` among the events from index `from` on, if it is of type `type`. */
  frameOfEvent(type: ChannelEventType, seq: number, from: number): Uint8Array | null {
    for (let i = from; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.seq === seq) return e.type === type ? this.frames[i]! : null;
    }
    return null;
  }

  /** Sends a frame to another topic (a user's personal topic) after commit. */
  notify(topic: string, frame: Uint8Array): void {
    this.outputs.push({ kind: "publish", frame, topic });
  }

  /** Records a new message. */
  createMessage(message: StoredMessage): void {
    this.created.set(message.id, message);
  }

  /** Records a reaction row added or removed; an add and a remove in one batch cancel out. */
  react(row: ReactionRow, added: boolean): void {
    const same = (r: ReactionRow) =>
      r.messageId === row.messageId && r.userId === row.userId && r.emoji === row.emoji;
    const opposite = added ? this.removedReactions : this.addedReactions;
    const i = opposite.findIndex(same);
    if (i >= 0) opposite.splice(i, 1);
    else (added ? this.addedReactions : this.removedReactions).push(row);
  }

  /** Records the text an edit replaced. */
  addVersion(version: MessageVersion): void {
    this.versions.push(version);
  }

  /** Records a thread follow or unfollow (latest wins). */
  follow(f: ThreadFollow): void {
    this.follows.set(`${f.rootId}/${f.userId}`, f);
  }

  /** Records a scheduled message created or changed (latest wins). */
  schedule(s: Scheduled): void {
    this.schedules.set(s.id, s);
  }

  /** Records a flag created or resolved (latest wins). Flags are no log event: see moderation-ops.ts. */
  flag(f: Flag): void {
    this.flags.set(f.id, f);
  }

  /** Records the original of a message a moderator removed (its removal is a `message.deleted` event). */
  keepOriginal(r: RemovedOriginal): void {
    this.originals.push(r);
  }

  /** Records an audit entry, appended in the batch's transaction. */
  addAudit(record: AuditRecord): void {
    this.audit.push(record);
  }

  /** Records a change to a message (its latest state wins). */
  changeMessage(message: StoredMessage): void {
    if (this.created.has(message.id)) this.created.set(message.id, message);
    else this.changed.set(message.id, message);
  }

  /** Records a member added or changed. */
  upsertMember(member: MemberRecord): void {
    this.removals.delete(member.userId);
    this.upserts.set(member.userId, member);
  }

  /** Records a member removed. */
  removeMember(userId: string): void {
    this.upserts.delete(userId);
    this.removals.add(userId);
  }

  /** The store's form of this batch. */
  toWrite(channel: ChannelRecord): ChannelWrite {
    return {
      channel: { ...channel },
      events: this.events,
      newMessages: [...this.created.values()],
      changedMessages: [...this.changed.values()],
      upsertMembers: [...this.upserts.values()],
      removedMembers: [...this.removals],
      addedReactions: this.addedReactions,
      removedReactions: this.removedReactions,
      versions: this.versions,
      follows: [...this.follows.values()],
      schedules: [...this.schedules.values()],
      ...(this.flags.size === 0 ? {} : { flags: [...this.flags.values()] }),
      ...(this.originals.length === 0 ? {} : { removals: this.originals }),
      ...(this.audit.length === 0 ? {} : { audit: this.audit }),
    };
  }
}

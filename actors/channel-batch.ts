/**
 * The unit of group commit inside one ChannelActor: the durable changes of a run of
 * requests, and the outputs (replies, events, revocations) that may leave only once
 * those changes are committed.
 */
import type { ChannelRecord, ChannelWrite } from "../core/ports.js";
import type { ChannelEvent, Member, Message } from "../core/types.js";
import type { Envelope, Grant, Outcome } from "./envelope.js";

/** One output, released in order after commit. */
export type Output =
  | { kind: "reply"; callId: number; outcome: Outcome; grant?: Grant }
  | { kind: "publish"; frame: Uint8Array }
  | { kind: "revoke"; userId: string };

/** Writes and outputs of a run of requests to one channel. */
export class ChannelBatch {
  /** Every envelope handled into this batch, so it can be handled again after a reset. */
  readonly envelopes: Envelope[] = [];
  readonly outputs: Output[] = [];
  readonly events: ChannelEvent[] = [];
  private readonly created = new Map<string, Message>();
  private readonly changed = new Map<string, Message>();
  private readonly upserts = new Map<string, Member>();
  private readonly removals = new Set<string>();

  /** True when committing this batch would write nothing. */
  get isReadOnly(): boolean {
    return this.events.length === 0 && this.upserts.size === 0 && this.removals.size === 0;
  }

  /** True when it holds nothing at all. */
  get isEmpty(): boolean {
    return this.envelopes.length === 0 && this.outputs.length === 0;
  }

  /** Records a new log entry; its frame is published after commit. */
  appendEvent(event: ChannelEvent, frame: Uint8Array): void {
    this.events.push(event);
    this.outputs.push({ kind: "publish", frame });
  }

  /** Records a new message. */
  createMessage(message: Message): void {
    this.created.set(message.id, message);
  }

  /** Records a change to a message (its latest state wins). */
  changeMessage(message: Message): void {
    if (this.created.has(message.id)) this.created.set(message.id, message);
    else this.changed.set(message.id, message);
  }

  /** Records a member added or changed. */
  upsertMember(member: Member): void {
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
      newMessages: [...this.created.values()].map((m) => ({ ...m })),
      changedMessages: [...this.changed.values()].map((m) => ({ ...m })),
      upsertMembers: [...this.upserts.values()],
      removedMembers: [...this.removals],
    };
  }
}

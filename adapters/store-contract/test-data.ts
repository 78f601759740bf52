/**
 * What the Store contract suite's parts share: the hooks an adapter gives it, fresh ids,
 * and builders of the rows the tests commit (`TestChannel`, scheduled messages).
 *
 * Tests share one database per run, so each test uses its own random ids.
 */
import { newMessage } from "../../core/message-rules.js";
import type {
  ChannelRecord,
  ChannelWrite,
  MemberRecord,
  ReactionRow,
  Store,
  StoredMessage,
} from "../../core/ports.js";
import type { ChannelEvent, ChannelEventType, ChannelKind, Scheduled } from "../../core/types.js";

/** What the suite needs beyond the port: state the port neither sets nor shows. */
export interface StoreContractHooks {
  /** One message's reaction rows (one per user and emoji), by user then emoji. */
  reactionRows(messageId: string): Promise<ReactionRow[]>;
  /** Marks a user deactivated. */
  deactivateUser(userId: string): Promise<void>;
  /** Changes an audit entry's details in the database, behind the chain's back. */
  editAuditDetails(id: string, details: Record<string, unknown>): Promise<void>;
  /** Deletes an audit entry in the database; returns its row for `restoreAuditRow`. */
  deleteAuditRow(id: string): Promise<Record<string, unknown>>;
  /** Puts a deleted row back exactly as it was. */
  restoreAuditRow(row: Record<string, unknown>): Promise<void>;
}

/** A new, unmigrated store handle and the hooks over the same database. */
export interface OpenedStore {
  store: Store;
  hooks: StoreContractHooks;
}

/**
 * A new, empty database of the adapter, for tests of a migration over data written before
 * it: `early` migrates it up to (not including) the named migration, `full` through all of
 * them; both are handles on the same database. `close` ends both and drops the database.
 */
export interface EmptyDatabase {
  early: Store;
  full: Store;
  close(): Promise<void>;
}

/** Opens an `EmptyDatabase` whose `early` store stops before `migrationId`. */
export type OpenEmptyDatabase = (migrationId: string) => Promise<EmptyDatabase>;

/**
 * Stands in for what `target()` returns once it exists: every property read goes to it at
 * the time of the read (methods bound to it). The parts register their tests with the
 * store and hooks before the suite's `beforeAll` has opened them.
 */
export function openedLater<T extends object>(target: () => T): T {
  return new Proxy({} as T, {
    get(_, key) {
      const opened = target();
      const value: unknown = Reflect.get(opened, key);
      return typeof value === "function" ? value.bind(opened) : value;
    },
  });
}

let counter = 0;
/** A fresh id with a kind prefix, unique within a run and across runs. */
export const fresh = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** The time every test row starts from. */
export const T0 = 1_700_000_000_000;

/** A channel under construction: its record (lastSeq moves as writes are built) and pending writes. */
export class TestChannel {
  readonly record: ChannelRecord;
  constructor(kind: ChannelKind = "public", name = fresh("n-"), createdBy = fresh("U")) {
    this.record = {
      id: fresh("C"),
      name,
      kind,
      topic: "",
      createdBy,
      createdAt: T0,
      archived: false,
      lastSeq: 0,
    };
  }

  get id(): string {
    return this.record.id;
  }

  /** The next event of this channel's log. */
  event(type: ChannelEventType, data: Record<string, unknown> = {}): ChannelEvent {
    this.record.lastSeq += 1;
    return { channelId: this.id, seq: this.record.lastSeq, type, data, at: T0 + this.record.lastSeq };
  }

  /** A new message with its message.created event. */
  message(
    authorId: string,
    text: string,
    over: Partial<StoredMessage> = {},
  ): { message: StoredMessage; event: ChannelEvent } {
    const event = this.event("message.created", { text });
    const message: StoredMessage = {
      ...newMessage({
        id: fresh("M"),
        channelId: this.id,
        seq: event.seq,
        authorId,
        text,
        clientMsgId: fresh("k"),
        createdAt: event.at,
      }),
      ...over,
    };
    event.data.messageId = message.id;
    return { message, event };
  }

  /** The creation batch: channel.created then member.joined for the creator (seq 1, 2). */
  create(): ChannelWrite {
    const owner: MemberRecord = {
      userId: this.record.createdBy,
      role: "owner",
      joinedAt: T0,
      lastReadSeq: 0,
    };
    const events = [
      this.event("channel.created", { name: this.record.name, kind: this.record.kind }),
      this.event("member.joined", { userId: owner.userId }),
    ];
    return this.write({ events, upsertMembers: [owner] });
  }

  /** A batch of `count` messages by `authorId`. */
  messages(authorId: string, count: number): { write: ChannelWrite; messages: StoredMessage[] } {
    const messages: StoredMessage[] = [];
    const events: ChannelEvent[] = [];
    for (let i = 0; i < count; i++) {
      const { message, event } = this.message(authorId, `message ${i}`);
      messages.push(message);
      events.push(event);
    }
    return { write: this.write({ events, newMessages: messages }), messages };
  }

  /** A batch of new messages (built with `message`) and their events. */
  post(...made: Array<{ message: StoredMessage; event: ChannelEvent }>): ChannelWrite {
    return this.write({ events: made.map((m) => m.event), newMessages: made.map((m) => m.message) });
  }

  /** A member joining: the event and the member row. */
  join(userId: string, over: Partial<MemberRecord> = {}): ChannelWrite {
    const event = this.event("member.joined", { userId });
    return this.write({
      events: [event],
      upsertMembers: [{ userId, role: "member", joinedAt: event.at, lastReadSeq: 0, ...over }],
    });
  }

  /** A member leaving. */
  leave(userId: string): ChannelWrite {
    return this.write({ events: [this.event("member.left", { userId })], removedMembers: [userId] });
  }

  /** A write with the channel's current record. */
  write(parts: Partial<Omit<ChannelWrite, "channel">>): ChannelWrite {
    return channelWrite({ ...this.record }, parts);
  }
}

/** A write of `channel` with `parts` and nothing else. */
export function channelWrite(
  channel: ChannelRecord,
  parts: Partial<Omit<ChannelWrite, "channel">>,
): ChannelWrite {
  return {
    channel,
    events: [],
    newMessages: [],
    changedMessages: [],
    upsertMembers: [],
    removedMembers: [],
    addedReactions: [],
    removedReactions: [],
    versions: [],
    follows: [],
    schedules: [],
    ...parts,
  };
}

/** Creates channels in the store (one commit) and returns them. */
export async function created(store: Store, ...channels: TestChannel[]): Promise<TestChannel[]> {
  await store.commit(channels.map((c) => c.create()));
  return channels;
}

/** The seqs of events or messages, in order. */
export const seqs = (xs: Array<{ seq: number }>) => xs.map((x) => x.seq);

/** A scheduled message of a channel, pending unless `over` says otherwise. */
export function scheduled(
  ch: TestChannel,
  authorId: string,
  sendAt: number,
  over: Partial<Scheduled> = {},
): Scheduled {
  return {
    id: fresh("S"),
    channelId: ch.id,
    authorId,
    text: `at ${sendAt}`,
    clientMsgId: fresh("k"),
    threadRootId: null,
    sendAt,
    status: "pending",
    messageId: null,
    ...over,
  };
}

/**
 * The one contract suite of the `Store` port. Every Store adapter runs it against its
 * real database: `describeStoreContract("pglite", async () => ({ store, hooks }))`.
 *
 * Tests share one database per run, so each test uses its own random ids.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChannelRecord,
  type ChannelWrite,
  DuplicateSendError,
  type MemberRecord,
  type ReactionRow,
  type Store,
  StoreConflict,
  type StoredMessage,
  type ThreadFollow,
} from "../core/ports.js";
import type {
  ChannelEvent,
  ChannelEventType,
  ChannelKind,
  MessageVersion,
  Scheduled,
} from "../core/types.js";

/** What the suite needs beyond the port: state the port neither sets nor shows. */
export interface StoreContractHooks {
  /** One message's reaction rows (one per user and emoji), by user then emoji. */
  reactionRows(messageId: string): Promise<ReactionRow[]>;
  /** Marks a user deactivated. */
  deactivateUser(userId: string): Promise<void>;
}

/** A new, unmigrated store handle and the hooks over the same database. */
export interface OpenedStore {
  store: Store;
  hooks: StoreContractHooks;
}

let counter = 0;
/** A fresh id with a kind prefix, unique within a run and across runs. */
export const fresh = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

const T0 = 1_700_000_000_000;

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
      id: fresh("M"),
      channelId: this.id,
      seq: event.seq,
      authorId,
      text,
      clientMsgId: fresh("k"),
      createdAt: event.at,
      editedAt: null,
      deletedAt: null,
      threadRootId: null,
      replyCount: 0,
      lastReplyAt: null,
      threadParticipants: [],
      mentions: [],
      broadcast: null,
      reactions: [],
      pinnedAt: null,
      pinnedBy: null,
      files: [],
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
    return {
      channel: { ...this.record },
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
}

/** Creates channels in the store (one commit) and returns them. */
export async function created(store: Store, ...channels: TestChannel[]): Promise<TestChannel[]> {
  await store.commit(channels.map((c) => c.create()));
  return channels;
}

/** The seqs of events or messages, in order. */
export const seqs = (xs: Array<{ seq: number }>) => xs.map((x) => x.seq);

/** A scheduled message of a channel, pending unless `over` says otherwise. */
function scheduled(
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

/**
 * Registers the Store contract suite for one adapter. `open` returns a new, unmigrated
 * handle and the test hooks over its database.
 */
export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let hooks: StoreContractHooks;

    beforeAll(async () => {
      ({ store, hooks } = await open());
      // Two handles migrating at once, as two processes starting together would.
      const { store: other } = await open();
      try {
        await Promise.all([store.migrate(), other.migrate()]);
      } finally {
        await other.close();
      }
    }, 60_000);

    afterAll(async () => {
      await store?.close();
    });

    it("migrates again harmlessly, and pings", async () => {
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate()]);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("creates a channel by commit and loads it back", async () => {
      const [ch] = await created(store, new TestChannel("private", "general"));
      const snap = await store.loadChannel(ch!.id, { recentEvents: 10, recentKeys: 10 });
      expect(snap).not.toBeNull();
      expect(snap!.channel).toEqual({ ...ch!.record, lastSeq: 2 });
      expect(snap!.members).toEqual([
        { userId: ch!.record.createdBy, role: "owner", joinedAt: T0, lastReadSeq: 0 },
      ]);
      expect(snap!.recentEvents.map((e) => [e.seq, e.type])).toEqual([
        [1, "channel.created"],
        [2, "member.joined"],
      ]);
      expect(snap!.recentEvents[0]).toEqual({
        channelId: ch!.id,
        seq: 1,
        type: "channel.created",
        data: { name: "general", kind: "private" },
        at: T0 + 1,
      });
      expect(snap!.recentKeys).toEqual([]);
      expect(await store.loadChannel(fresh("C"), { recentEvents: 10, recentKeys: 10 })).toBeNull();
    });

    it("ignores an empty commit", async () => {
      await expect(store.commit([])).resolves.toBeUndefined();
    });

    it("commits the batches of several channels in one call", async () => {
      const chs = [new TestChannel(), new TestChannel(), new TestChannel()];
      await created(store, ...chs);
      const author = fresh("U");
      const batches = chs.map((c, i) => c.messages(author, i + 1));
      await store.commit(batches.map((b) => b.write));
      for (const [i, c] of chs.entries()) {
        const snap = await store.loadChannel(c.id, { recentEvents: 100, recentKeys: 100 });
        expect(snap!.channel.lastSeq).toBe(2 + i + 1);
        expect(seqs(snap!.recentEvents)).toEqual(Array.from({ length: 3 + i }, (_, k) => k + 1));
        expect(snap!.recentKeys).toEqual(
          batches[i]!.messages.map((m) => ({
            authorId: author,
            clientMsgId: m.clientMsgId,
            messageId: m.id,
          })),
        );
      }
    });

    it("round-trips a message's fields with their types", async () => {
      const [ch] = await created(store, new TestChannel());
      const { message, event } = ch!.message(fresh("U"), "hello *world*", {
        mentions: ["U1", "U2"],
        files: ["F1"],
        editedAt: T0 + 99,
      });
      await store.commit([ch!.write({ events: [event], newMessages: [message] })]);
      const got = await store.getMessage(ch!.id, message.id);
      expect(got).toEqual(message);
      expect(typeof got!.seq).toBe("number");
      expect(typeof got!.createdAt).toBe("number");
      const [ev] = await store.readEvents(ch!.id, 2, 10);
      expect(ev).toEqual(event);
      expect(typeof ev!.seq).toBe("number");
      expect(typeof ev!.at).toBe("number");
    });

    it("round-trips text that array and JSON encodings must escape", async () => {
      const awkward = [
        "",
        "NULL",
        "null",
        ' "quoted" ',
        "back\\slash \\\\ \\",
        "{braces},commas;",
        "tab\tnew\nline\r",
        "ünïcödé 👍 \u2028",
        '\'single\' "double" \\"both\\"',
      ];
      const ch = new TestChannel("public", `n-{"x"},\\ ${fresh("")}`);
      ch.record.topic = 'topic "with" \\ {,} NULL';
      await created(store, ch);
      const author = fresh("U");
      const sent = awkward.map((text, i) =>
        ch.message(author, text, {
          clientMsgId: `k-${i}-"${text}"`,
          mentions: [text],
          broadcast: i % 2 === 0 ? "channel" : null,
        }),
      );
      for (const [i, s] of sent.entries())
        s.event.data = { text: awkward[i], nested: { v: [awkward[i], null] } };
      await store.commit([ch.post(...sent)]);
      for (const s of sent) expect(await store.getMessage(ch.id, s.message.id)).toEqual(s.message);
      const events = await store.readEvents(ch.id, 2, 100);
      expect(events).toEqual(sent.map((s) => s.event));
      const snap = await store.loadChannel(ch.id, { recentEvents: 1, recentKeys: 1 });
      expect(snap!.channel).toEqual(ch.record);
    });

    it("pages history before, after and between seqs, always ascending", async () => {
      const [ch] = await created(store, new TestChannel());
      const { write } = ch!.messages(fresh("U"), 10); // seqs 3..12
      await store.commit([write]);
      const page = (p: Parameters<Store["readMessages"]>[1]) =>
        store.readMessages(ch!.id, p).then((ms) => seqs(ms));
      expect(await page({ limit: 3 })).toEqual([10, 11, 12]);
      expect(await page({ limit: 100 })).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(await page({ beforeSeq: 10, limit: 3 })).toEqual([7, 8, 9]);
      expect(await page({ beforeSeq: 5, limit: 10 })).toEqual([3, 4]);
      expect(await page({ beforeSeq: 3, limit: 10 })).toEqual([]);
      expect(await page({ afterSeq: 4, limit: 3 })).toEqual([5, 6, 7]);
      expect(await page({ afterSeq: 10, limit: 10 })).toEqual([11, 12]);
      expect(await page({ afterSeq: 12, limit: 10 })).toEqual([]);
      expect(await page({ afterSeq: 4, beforeSeq: 8, limit: 10 })).toEqual([5, 6, 7]);
      // Both bounds: the newest between them.
      expect(await page({ afterSeq: 4, beforeSeq: 12, limit: 2 })).toEqual([10, 11]);
      expect(await page({ afterSeq: 4, beforeSeq: 5, limit: 2 })).toEqual([]);
      expect(await page({ limit: 0 })).toEqual([]);
      expect(await store.readMessages(fresh("C"), { limit: 10 })).toEqual([]);
    });

    it("loads the newest events and send keys of a channel", async () => {
      const [ch] = await created(store, new TestChannel());
      const author = fresh("U");
      const { write, messages } = ch!.messages(author, 6); // seqs 3..8
      await store.commit([write]);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 4, recentKeys: 2 });
      expect(seqs(snap!.recentEvents)).toEqual([5, 6, 7, 8]);
      expect(snap!.recentKeys).toEqual(
        messages.slice(-2).map((m) => ({ authorId: author, clientMsgId: m.clientMsgId, messageId: m.id })),
      );
      const none = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(none!.recentEvents).toEqual([]);
      expect(none!.recentKeys).toEqual([]);
    });

    it("edits, deletes and counts thread replies through changedMessages", async () => {
      const [ch] = await created(store, new TestChannel());
      const author = fresh("U");
      const { write, messages } = ch!.messages(author, 2);
      await store.commit([write]);
      const [root, other] = messages as [StoredMessage, StoredMessage];

      const edited: StoredMessage = { ...root, text: "edited", editedAt: T0 + 500, mentions: ["U9"] };
      const deleted: StoredMessage = { ...other, text: "", deletedAt: T0 + 600 };
      await store.commit([
        ch!.write({
          events: [
            ch!.event("message.updated", { messageId: root.id }),
            ch!.event("message.deleted", { messageId: other.id }),
          ],
          changedMessages: [edited, deleted],
        }),
      ]);
      expect(await store.getMessage(ch!.id, root.id)).toEqual(edited);
      expect(await store.getMessage(ch!.id, other.id)).toEqual(deleted);

      const reply = ch!.message(author, "a reply", { threadRootId: root.id });
      const rootWithReply: StoredMessage = { ...edited, replyCount: 1, lastReplyAt: reply.message.createdAt };
      await store.commit([
        ch!.write({
          events: [reply.event, ch!.event("message.updated", { messageId: root.id })],
          newMessages: [reply.message],
          changedMessages: [rootWithReply],
        }),
      ]);
      expect(await store.getMessage(ch!.id, root.id)).toEqual(rootWithReply);
      expect(await store.getMessage(ch!.id, reply.message.id)).toEqual(reply.message);
      expect(seqs(await store.readMessages(ch!.id, { limit: 10 }))).toEqual([3, 4]);
      expect(seqs(await store.readMessages(ch!.id, { limit: 10, thread: root.id }))).toEqual([7]);
      expect((await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 }))!.channel.lastSeq).toBe(8);
    });

    it("refuses a repeated idempotency key and writes nothing of that commit", async () => {
      const [ch, bystander] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      const first = ch!.message(author, "first");
      await store.commit([ch!.write({ events: [first.event], newMessages: [first.message] })]);
      const lastSeq = ch!.record.lastSeq;

      const retry = ch!.message(author, "retry", { clientMsgId: first.message.clientMsgId });
      const fine = ch!.message(fresh("U"), "unrelated");
      const bystanderBatch = bystander!.messages(author, 2);
      const err = await store
        .commit([
          ch!.write({ events: [retry.event, fine.event], newMessages: [retry.message, fine.message] }),
          bystanderBatch.write,
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateSendError);
      expect((err as DuplicateSendError).keys).toEqual([
        { channelId: ch!.id, authorId: author, clientMsgId: first.message.clientMsgId },
      ]);

      expect(await store.readEvents(ch!.id, lastSeq, 100)).toEqual([]);
      expect(await store.readEvents(bystander!.id, 2, 100)).toEqual([]);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 1, recentKeys: 10 });
      expect(snap!.channel.lastSeq).toBe(lastSeq);
      expect(snap!.recentKeys.map((k) => k.messageId)).toEqual([first.message.id]);
      expect(
        (await store.loadChannel(bystander!.id, { recentEvents: 0, recentKeys: 0 }))!.channel.lastSeq,
      ).toBe(2);
      expect(await store.getMessage(ch!.id, fine.message.id)).toBeNull();
      expect(await store.getMessage(bystander!.id, bystanderBatch.messages[0]!.id)).toBeNull();

      const found = await store.findSends(ch!.id, [
        { authorId: author, clientMsgId: first.message.clientMsgId },
      ]);
      expect(found).toEqual([first.message]);
    });

    it("refuses two new messages with one idempotency key in a single commit", async () => {
      const [ch] = await created(store, new TestChannel());
      const author = fresh("U");
      const a = ch!.message(author, "a");
      const b = ch!.message(author, "b", { clientMsgId: a.message.clientMsgId });
      await expect(
        store.commit([ch!.write({ events: [a.event, b.event], newMessages: [a.message, b.message] })]),
      ).rejects.toBeInstanceOf(DuplicateSendError);
      expect(await store.readEvents(ch!.id, 2, 100)).toEqual([]);
    });

    it("refuses a log position that is taken (stale writer) and writes nothing", async () => {
      const [ch, bystander] = await created(store, new TestChannel(), new TestChannel());
      // A stale owner still believes lastSeq is 1: it writes seq 2 again.
      const stale = new TestChannel();
      Object.assign(stale.record, { ...ch!.record, lastSeq: 1 });
      const m = stale.message(fresh("U"), "from a stale owner");
      const member: MemberRecord = { userId: fresh("U"), role: "member", joinedAt: T0, lastReadSeq: 0 };
      const bystanderBatch = bystander!.messages(fresh("U"), 1);

      const err = await store
        .commit([
          stale.write({ events: [m.event], newMessages: [m.message], upsertMembers: [member] }),
          bystanderBatch.write,
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "seqTaken", channelIds: [ch!.id] });

      const snap = await store.loadChannel(ch!.id, { recentEvents: 10, recentKeys: 10 });
      expect(snap!.channel.lastSeq).toBe(2);
      expect(snap!.recentEvents.map((e) => e.type)).toEqual(["channel.created", "member.joined"]);
      expect(snap!.members.map((x) => x.userId)).toEqual([ch!.record.createdBy]);
      expect(await store.getMessage(ch!.id, m.message.id)).toBeNull();
      expect(await store.readEvents(bystander!.id, 2, 10)).toEqual([]);
    });

    it("lets exactly one of two racing writers take a log position", async () => {
      const [ch] = await created(store, new TestChannel());
      const racer = () => {
        const c = new TestChannel();
        Object.assign(c.record, { ...ch!.record, lastSeq: 2 });
        return c.messages(fresh("U"), 3).write;
      };
      const results = await Promise.allSettled([store.commit([racer()]), store.commit([racer()])]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(StoreConflict);
      expect(rejected.reason).toMatchObject({ kind: "seqTaken" });
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3, 4, 5]);
    });

    it("fences commits by shard epoch: a taken shard refuses its old owner's writes", async () => {
      // Shard numbers far above any configured count, so runs sharing a database do not meet.
      const shard = 100_000 + Math.floor(Math.random() * 1_000_000_000);
      const [first] = await store.takeShards([shard]);
      expect(first).toEqual({ shard, epoch: expect.any(Number) });
      const [ch, bystander] = await created(store, new TestChannel(), new TestChannel());
      const fenced = (c: TestChannel, epoch: number) => {
        const { write } = c.messages(fresh("U"), 1);
        return { ...write, fence: { shard, epoch } };
      };
      await store.commit([fenced(ch!, first!.epoch)]);

      const [second] = await store.takeShards([shard]);
      expect(second!.epoch).toBeGreaterThan(first!.epoch);
      const stale = fenced(ch!, first!.epoch);
      const err = await store
        .commit([stale, bystander!.messages(fresh("U"), 1).write])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "staleOwner", channelIds: [ch!.id] });
      // Nothing of that commit was written, the bystander's batch included.
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3]);
      expect(seqs(await store.readEvents(bystander!.id, 0, 100))).toEqual([1, 2]);
      // The new epoch writes.
      const fresh2 = { ...stale, fence: { shard, epoch: second!.epoch } };
      await store.commit([fresh2]);
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3, 4]);
    });

    it("names every channel of a taken shard in a stale commit that holds several, and keeps the kind when narrowed", async () => {
      const shard = 100_000 + Math.floor(Math.random() * 1_000_000_000);
      const [first] = await store.takeShards([shard]);
      const [a, b, bystander] = await created(store, new TestChannel(), new TestChannel(), new TestChannel());
      await store.takeShards([shard]); // another node takes the shard
      const stale = (c: TestChannel) => ({
        ...c.messages(fresh("U"), 1).write,
        fence: { shard, epoch: first!.epoch },
      });
      const err = await store
        .commit([stale(a!), bystander!.messages(fresh("U"), 1).write, stale(b!)])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "staleOwner" });
      expect([...(err as StoreConflict).channelIds].sort()).toEqual([a!.id, b!.id].sort());
      expect((err as StoreConflict).narrowedTo(a!.id)).toMatchObject({
        kind: "staleOwner",
        channelIds: [a!.id],
      });
      for (const c of [a, b, bystander]) expect(seqs(await store.readEvents(c!.id, 0, 100))).toEqual([1, 2]);
    });

    it("keeps one shared dev issuer key: the first stored wins", async () => {
      const first = await store.sharedDevIssuerKey({ kty: "OKP", d: fresh("d"), x: fresh("x") });
      const again = await store.sharedDevIssuerKey({ kty: "OKP", d: fresh("d"), x: fresh("x") });
      expect(again).toEqual(first);
    });

    it("reads events after a seq, ascending and limited", async () => {
      const [ch] = await created(store, new TestChannel());
      await store.commit([ch!.messages(fresh("U"), 5).write]); // seqs 3..7
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(seqs(await store.readEvents(ch!.id, 3, 2))).toEqual([4, 5]);
      expect(seqs(await store.readEvents(ch!.id, 6, 100))).toEqual([7]);
      expect(await store.readEvents(ch!.id, 7, 100)).toEqual([]);
      expect(await store.readEvents(ch!.id, 0, 0)).toEqual([]);
      expect(await store.readEvents(fresh("C"), 0, 10)).toEqual([]);
    });

    it("finds stored sends by idempotency key, in this channel only", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      const { write, messages } = ch!.messages(author, 3);
      await store.commit([write]);
      const keys = messages.map((m) => ({ authorId: m.authorId, clientMsgId: m.clientMsgId }));
      const found = await store.findSends(ch!.id, [
        keys[2]!,
        keys[0]!,
        { authorId: author, clientMsgId: "nope" },
      ]);
      expect(found).toEqual([messages[0], messages[2]]);
      expect(
        await store.findSends(ch!.id, [{ authorId: fresh("U"), clientMsgId: keys[1]!.clientMsgId }]),
      ).toEqual([]);
      expect(await store.findSends(other!.id, keys)).toEqual([]);
      expect(await store.findSends(ch!.id, [])).toEqual([]);
    });

    it("upserts and removes members, keeping an existing member's read marker and join time", async () => {
      const [ch] = await created(store, new TestChannel());
      const owner = ch!.record.createdBy;
      const [a, b] = [fresh("U"), fresh("U")];
      await store.commit([
        ch!.write({
          events: [ch!.event("member.joined", { userId: a }), ch!.event("member.joined", { userId: b })],
          upsertMembers: [
            { userId: a, role: "member", joinedAt: T0 + 10, lastReadSeq: 0 },
            { userId: b, role: "member", joinedAt: T0 + 20, lastReadSeq: 0 },
          ],
        }),
      ]);
      await store.commit([
        ch!.write({
          events: [ch!.event("member.left", { userId: b }), ch!.event("channel.updated", { userId: a })],
          upsertMembers: [{ userId: a, role: "moderator", joinedAt: T0 + 99, lastReadSeq: 4 }],
          removedMembers: [b],
        }),
      ]);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      // Only the role changes: the marker is the user's actor's (markRead).
      expect(snap!.members).toEqual([
        { userId: owner, role: "owner", joinedAt: T0, lastReadSeq: 0 },
        { userId: a, role: "moderator", joinedAt: T0 + 10, lastReadSeq: 0 },
      ]);
      expect(snap!.channel.lastSeq).toBe(6);
    });

    it("updates the channel row with each commit", async () => {
      const [ch] = await created(store, new TestChannel("public", "before"));
      Object.assign(ch!.record, { name: "after", topic: "a topic", archived: true });
      await store.commit([ch!.write({ events: [ch!.event("channel.updated", { name: "after" })] })]);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(snap!.channel).toEqual({ ...ch!.record, lastSeq: 3 });
    });

    it("lists a user's channels, and public ones on request", async () => {
      const me = fresh("U");
      const prefix = fresh("list-");
      const mk = (kind: ChannelKind, suffix: string) => new TestChannel(kind, `${prefix}-${suffix}`, me);
      const mineA = mk("public", "b");
      const mineB = mk("private", "a");
      const dm = mk("dm", "c");
      const archived = mk("public", "d");
      const notMine = new TestChannel("public", `${prefix}-e`);
      const privateNotMine = new TestChannel("private", `${prefix}-f`);
      await created(store, mineA, mineB, dm, archived, notMine, privateNotMine);
      const guest = fresh("U");
      await store.commit([
        mineA.write({
          events: [mineA.event("member.joined", { userId: guest })],
          upsertMembers: [{ userId: guest, role: "member", joinedAt: T0, lastReadSeq: 0 }],
        }),
        archived.write({ events: [archived.event("channel.updated", {})] }),
      ]);
      archived.record.archived = true;
      await store.commit([
        archived.write({ events: [archived.event("channel.updated", { archived: true })] }),
      ]);

      const ours = <L extends { name: string }>(xs: L[]) => xs.filter((x) => x.name.startsWith(prefix));
      const basic = await store.listChannels(me, { includePublic: false, includeArchived: false });
      expect(basic.map((c) => [c.name, c.myRole, c.memberCount])).toEqual([
        [`${prefix}-a`, "owner", 1],
        [`${prefix}-b`, "owner", 2],
        [`${prefix}-c`, "owner", 1],
      ]);
      expect(basic[1]).toEqual({ ...mineA.record, memberCount: 2, myRole: "owner" });

      const withPublic = ours(await store.listChannels(me, { includePublic: true, includeArchived: false }));
      expect(withPublic.map((c) => [c.name, c.myRole])).toEqual([
        [`${prefix}-a`, "owner"],
        [`${prefix}-b`, "owner"],
        [`${prefix}-c`, "owner"],
        [`${prefix}-e`, null],
      ]);

      const withArchived = await store.listChannels(me, { includePublic: false, includeArchived: true });
      expect(withArchived.map((c) => c.name)).toEqual([
        `${prefix}-a`,
        `${prefix}-b`,
        `${prefix}-c`,
        `${prefix}-d`,
      ]);
      expect(withArchived[3]!.archived).toBe(true);

      const asGuest = ours(await store.listChannels(guest, { includePublic: true, includeArchived: true }));
      expect(asGuest.map((c) => [c.name, c.myRole])).toEqual([
        [`${prefix}-b`, "member"],
        [`${prefix}-d`, null],
        [`${prefix}-e`, null],
      ]);
      expect(await store.listChannels(fresh("U"), { includePublic: false, includeArchived: true })).toEqual(
        [],
      );
    });

    it("upserts and gets users", async () => {
      const id = fresh("U");
      const username = fresh("user-");
      const made = await store.upsertUser({ id, username, displayName: "Ada", role: "member" });
      expect(made).toMatchObject({ id, username, displayName: "Ada", role: "member" });
      expect(typeof made.createdAt).toBe("number");
      expect(await store.getUser(id)).toEqual(made);

      expect(made).toEqual({
        id,
        username,
        displayName: "Ada",
        role: "member",
        title: "",
        timeZone: "",
        avatarFileId: null,
        deactivated: false,
        createdAt: made.createdAt,
      });

      // Later logins refresh the username and role; the display name is the user's own.
      const renamed = await store.upsertUser({
        id,
        username: `${username}-2`,
        displayName: "Ada L.",
        role: "admin",
      });
      expect(renamed).toEqual({ ...made, username: `${username}-2`, role: "admin" });
      expect(await store.getUser(id)).toEqual(renamed);
      expect(await store.getUser(fresh("U"))).toBeNull();

      await expect(
        store.upsertUser({ id: fresh("U"), username: `${username}-2`, displayName: "Eve", role: "member" }),
      ).rejects.toMatchObject({ code: "conflict" });
    });

    it("never returns another channel's message", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const { write, messages } = ch!.messages(fresh("U"), 1);
      await store.commit([write]);
      expect(await store.getMessage(ch!.id, messages[0]!.id)).toEqual(messages[0]);
      expect(await store.getMessage(other!.id, messages[0]!.id)).toBeNull();
      expect(await store.getMessage(ch!.id, fresh("M"))).toBeNull();
    });

    it("locates the channel of a message id", async () => {
      const [ch] = await created(store, new TestChannel());
      const { write, messages } = ch!.messages(fresh("U"), 2);
      await store.commit([write]);
      expect(await store.locateMessage(messages[1]!.id)).toBe(ch!.id);
      expect(await store.locateMessage(fresh("M"))).toBeNull();
    });

    it("commits concurrently for different channels", async () => {
      const chs = await created(store, ...Array.from({ length: 8 }, () => new TestChannel()));
      const author = fresh("U");
      await Promise.all(chs.map((c) => store.commit([c.messages(author, 5).write])));
      for (const c of chs) {
        expect(seqs(await store.readMessages(c.id, { limit: 100 }))).toEqual([3, 4, 5, 6, 7]);
      }
    });

    // ---- Collaboration: threads, reactions, versions, pins, schedules ----

    it("round-trips a message's collaboration fields through inserts and updates", async () => {
      const [ch] = await created(store, new TestChannel());
      const [u1, u2, u3] = [fresh("U"), fresh("U"), fresh("U")];
      const { message, event } = ch!.message(u1, "@here look", {
        threadParticipants: [u1, u2],
        mentions: [u3],
        broadcast: "here",
        reactions: [
          { emoji: "👍", users: [u2, u1] },
          { emoji: "🎉", users: [u3] },
        ],
        pinnedAt: T0 + 5,
        pinnedBy: u2,
      });
      await store.commit([ch!.write({ events: [event], newMessages: [message] })]);
      expect(await store.getMessage(ch!.id, message.id)).toEqual(message);
      expect(await store.readMessages(ch!.id, { limit: 10 })).toEqual([message]);
      expect(await store.findSends(ch!.id, [{ authorId: u1, clientMsgId: message.clientMsgId }])).toEqual([
        message,
      ]);

      const changed: StoredMessage = {
        ...message,
        threadParticipants: [u1, u2, u3],
        broadcast: null,
        reactions: [{ emoji: "🎉", users: [u3, u1] }],
        pinnedAt: null,
        pinnedBy: null,
      };
      await store.commit([
        ch!.write({ events: [ch!.event("message.updated", {})], changedMessages: [changed] }),
      ]);
      expect(await store.getMessage(ch!.id, message.id)).toEqual(changed);

      const channelWide = { ...changed, broadcast: "channel" as const };
      await store.commit([
        ch!.write({ events: [ch!.event("message.updated", {})], changedMessages: [channelWide] }),
      ]);
      expect((await store.getMessage(ch!.id, message.id))!.broadcast).toBe("channel");
    });

    it("pages top-level messages and each thread's replies apart", async () => {
      const [ch] = await created(store, new TestChannel());
      const a = fresh("U");
      const root1 = ch!.message(a, "root 1"); // 3
      const root2 = ch!.message(a, "root 2"); // 4
      const r1a = ch!.message(a, "1a", { threadRootId: root1.message.id }); // 5
      const r2a = ch!.message(a, "2a", { threadRootId: root2.message.id }); // 6
      const top = ch!.message(a, "top"); // 7
      const r1b = ch!.message(a, "1b", { threadRootId: root1.message.id }); // 8
      const r1c = ch!.message(a, "1c", { threadRootId: root1.message.id }); // 9
      const all = [root1, root2, r1a, r2a, top, r1b, r1c];
      await store.commit([ch!.post(...all)]);
      const page = (p: Parameters<Store["readMessages"]>[1]) =>
        store.readMessages(ch!.id, p).then((ms) => seqs(ms));
      const t1 = root1.message.id;

      expect(await page({ limit: 10 })).toEqual([3, 4, 7]);
      expect(await page({ limit: 2 })).toEqual([4, 7]);
      expect(await page({ beforeSeq: 7, limit: 10 })).toEqual([3, 4]);
      expect(await page({ afterSeq: 3, limit: 10 })).toEqual([4, 7]);
      expect(await page({ thread: t1, limit: 10 })).toEqual([5, 8, 9]);
      expect(await page({ thread: t1, limit: 2 })).toEqual([8, 9]);
      expect(await page({ thread: t1, beforeSeq: 9, limit: 10 })).toEqual([5, 8]);
      expect(await page({ thread: t1, afterSeq: 5, limit: 1 })).toEqual([8]);
      expect(await page({ thread: t1, afterSeq: 4, beforeSeq: 9, limit: 1 })).toEqual([8]);
      expect(await page({ thread: root2.message.id, limit: 10 })).toEqual([6]);
      expect(await page({ thread: top.message.id, limit: 10 })).toEqual([]);
      expect(await page({ thread: fresh("M"), limit: 10 })).toEqual([]);
      expect(await page({ allThreads: true, limit: 10 })).toEqual([3, 4, 5, 6, 7, 8, 9]);
      expect(await page({ allThreads: true, thread: t1, beforeSeq: 8, limit: 3 })).toEqual([5, 6, 7]);
      expect(await page({ allThreads: true, afterSeq: 7, limit: 10 })).toEqual([8, 9]);
      expect(await store.readMessages(ch!.id, { thread: t1, limit: 1 })).toEqual([r1c.message]);
      expect(await store.getMessage(ch!.id, r1a.message.id)).toEqual(r1a.message);

      // Idempotency keys cover replies too.
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 10 });
      expect(snap!.recentKeys.map((k) => k.messageId)).toEqual(all.map((m) => m.message.id));
    });

    it("writes reaction rows: once per user and emoji, removed, and merged within a commit", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const [u1, u2, u3, u4] = [fresh("U"), fresh("U"), fresh("U"), fresh("U")];
      const { write, messages } = ch!.messages(fresh("U"), 1);
      await store.commit([write]);
      const m = messages[0]!.id;
      const row = (userId: string, emoji: string, at: number): ReactionRow => ({
        messageId: m,
        userId,
        emoji,
        at,
      });
      const rowsOf = async () =>
        (await hooks.reactionRows(m)).map((r) => [r.userId, r.emoji, r.at] as [string, string, number]);
      const sorted = (xs: Array<[string, string, number]>) =>
        xs.sort((x, y) => (x[0] === y[0] ? (x[1] < y[1] ? -1 : 1) : x[0] < y[0] ? -1 : 1));
      const react = (parts: Partial<ChannelWrite>) =>
        ch!.write({ events: [ch!.event("reaction.added", { messageId: m })], ...parts });

      await store.commit([react({ addedReactions: [row(u1, "👍", T0 + 1), row(u2, "👍", T0 + 2)] })]);
      expect(await rowsOf()).toEqual(
        sorted([
          [u1, "👍", T0 + 1],
          [u2, "👍", T0 + 2],
        ]),
      );

      // A row that exists is left as it is.
      await store.commit([react({ addedReactions: [row(u1, "👍", T0 + 9)] })]);
      await store.commit([react({ removedReactions: [row(u2, "👍", T0 + 10)] })]);
      expect(await rowsOf()).toEqual([[u1, "👍", T0 + 1]]);

      // Within one commit the last change wins: removed then added again is a fresh reaction,
      // added then removed leaves nothing, and both in one write counts as removed.
      await store.commit([
        react({ removedReactions: [row(u1, "👍", T0 + 20)], addedReactions: [row(u3, "🎉", T0 + 20)] }),
        react({ addedReactions: [row(u1, "👍", T0 + 21)], removedReactions: [row(u3, "🎉", T0 + 21)] }),
        react({ addedReactions: [row(u4, "🔥", T0 + 22)], removedReactions: [row(u4, "🔥", T0 + 22)] }),
      ]);
      expect(await rowsOf()).toEqual([[u1, "👍", T0 + 21]]);

      // Another channel's write cannot remove this channel's reactions.
      await store.commit([
        other!.write({
          events: [other!.event("reaction.removed", { messageId: m })],
          removedReactions: [row(u1, "👍", T0 + 30)],
        }),
      ]);
      expect(await rowsOf()).toEqual([[u1, "👍", T0 + 21]]);

      // A reaction to a message created in the same commit.
      const fresh1 = ch!.message(u1, "new");
      await store.commit([
        ch!.post(fresh1),
        ch!.write({
          events: [ch!.event("reaction.added", {})],
          addedReactions: [{ messageId: fresh1.message.id, userId: u2, emoji: "👀", at: T0 + 40 }],
        }),
      ]);
      expect(await hooks.reactionRows(fresh1.message.id)).toEqual([
        { messageId: fresh1.message.id, userId: u2, emoji: "👀", at: T0 + 40 },
      ]);
    });

    it("keeps the previous versions of an edited message, readable from its channel only", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      const { write, messages } = ch!.messages(author, 2);
      await store.commit([write]);
      const [m, untouched] = messages as [StoredMessage, StoredMessage];
      const v1: MessageVersion = { messageId: m.id, version: 1, text: m.text, editedAt: T0 + 100 };
      const v2: MessageVersion = { messageId: m.id, version: 2, text: "second", editedAt: T0 + 200 };
      // Two edits in one commit: the second write's version comes after the first's.
      await store.commit([
        ch!.write({
          events: [ch!.event("message.updated", {})],
          changedMessages: [{ ...m, text: "second", editedAt: T0 + 100 }],
          versions: [v1],
        }),
        ch!.write({
          events: [ch!.event("message.updated", {})],
          changedMessages: [{ ...m, text: "third", editedAt: T0 + 200 }],
          versions: [v2],
        }),
      ]);
      expect(await store.readVersions(ch!.id, m.id)).toEqual([v1, v2]);
      expect((await store.getMessage(ch!.id, m.id))!.text).toBe("third");
      expect(await store.readVersions(ch!.id, untouched.id)).toEqual([]);
      expect(await store.readVersions(other!.id, m.id)).toEqual([]);
      expect(await store.readVersions(ch!.id, fresh("M"))).toEqual([]);

      // A version number taken already means a stale writer: nothing of the commit lands.
      const lastSeq = ch!.record.lastSeq;
      const err = await store
        .commit([
          ch!.write({
            events: [ch!.event("message.updated", {})],
            changedMessages: [{ ...m, text: "stale" }],
            versions: [{ ...v2, text: "stale" }],
          }),
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreConflict);
      expect(err).toMatchObject({ kind: "seqTaken", channelIds: [ch!.id] });
      expect(await store.readEvents(ch!.id, lastSeq, 10)).toEqual([]);
      expect((await store.getMessage(ch!.id, m.id))!.text).toBe("third");
    });

    it("records thread follows and unfollows, the latest winning", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const root = ch!.message(fresh("U"), "root");
      await store.commit([ch!.post(root)]);
      const rootId = root.message.id;
      const [u1, u2, u3] = [fresh("U"), fresh("U"), fresh("U")].sort();
      const f = (userId: string, following: boolean): ThreadFollow => ({ rootId, userId, following });
      const follow = (...follows: ThreadFollow[]) =>
        ch!.write({ events: [ch!.event("thread.updated", { rootId })], follows });

      expect(await store.threadFollows(ch!.id, rootId)).toEqual([]);
      await store.commit([follow(f(u1!, true), f(u2!, false))]);
      expect(await store.threadFollows(ch!.id, rootId)).toEqual([f(u1!, true), f(u2!, false)]);

      await store.commit([follow(f(u1!, false), f(u3!, true)), follow(f(u3!, false), f(u2!, true))]);
      expect(await store.threadFollows(ch!.id, rootId)).toEqual([f(u1!, false), f(u2!, true), f(u3!, false)]);
      expect(await store.threadFollows(other!.id, rootId)).toEqual([]);
      expect(await store.threadFollows(ch!.id, fresh("M"))).toEqual([]);

      // Another channel's write does not change this thread's rows.
      await store.commit([
        other!.write({ events: [other!.event("thread.updated", {})], follows: [f(u1!, true)] }),
      ]);
      expect((await store.threadFollows(ch!.id, rootId))[0]).toEqual(f(u1!, false));
    });

    it("lists pinned messages, most recently pinned first", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const a = fresh("U");
      const m1 = ch!.message(a, "1", { pinnedAt: T0 + 30, pinnedBy: a });
      const m2 = ch!.message(a, "2", { pinnedAt: T0 + 10, pinnedBy: a });
      const m3 = ch!.message(a, "3");
      const m4 = ch!.message(a, "4", { threadRootId: m3.message.id, pinnedAt: T0 + 20, pinnedBy: a });
      await store.commit([ch!.post(m1, m2, m3, m4)]);
      expect(await store.listPinned(ch!.id, 10)).toEqual([m1.message, m4.message, m2.message]);
      expect(seqs(await store.listPinned(ch!.id, 2))).toEqual([m1.message.seq, m4.message.seq]);
      expect(await store.listPinned(ch!.id, 0)).toEqual([]);
      expect(await store.listPinned(other!.id, 10)).toEqual([]);

      await store.commit([
        ch!.write({
          events: [ch!.event("pin.removed", {})],
          changedMessages: [{ ...m1.message, pinnedAt: null, pinnedBy: null }],
        }),
      ]);
      expect(seqs(await store.listPinned(ch!.id, 10))).toEqual([m4.message.seq, m2.message.seq]);
    });

    it("creates and changes scheduled messages, and loads a channel's pending ones", async () => {
      const [ch, other] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      const later = scheduled(ch!, author, T0 + 2000);
      const sooner = scheduled(ch!, author, T0 + 1000, { threadRootId: fresh("M") });
      const third = scheduled(ch!, author, T0 + 3000);
      const otherChannels = scheduled(other!, author, T0 + 500);
      const schedule = (c: TestChannel, ...schedules: Scheduled[]) =>
        c.write({ events: [c.event("channel.updated", {})], schedules });
      await store.commit([schedule(ch!, later, sooner, third), schedule(other!, otherChannels)]);
      const pending = async () =>
        (await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 }))!.pendingSchedules;
      expect(await pending()).toEqual([sooner, later, third]);

      const sent = ch!.message(author, sooner.text, { clientMsgId: sooner.clientMsgId });
      await store.commit([
        ch!.write({
          events: [sent.event],
          newMessages: [sent.message],
          schedules: [
            { ...sooner, status: "sent", messageId: sent.message.id },
            { ...later, status: "cancelled" },
            { ...third, text: "edited", sendAt: T0 + 2500 },
          ],
        }),
      ]);
      expect(await pending()).toEqual([{ ...third, text: "edited", sendAt: T0 + 2500 }]);
      expect(await store.getMessage(ch!.id, sent.message.id)).toEqual(sent.message);
      const created2 = await store.loadChannel(other!.id, { recentEvents: 0, recentKeys: 0 });
      expect(created2!.pendingSchedules).toEqual([otherChannels]);

      // Another channel's write cannot change this channel's schedules.
      await store.commit([schedule(other!, { ...third, channelId: other!.id, status: "cancelled" })]);
      expect((await pending()).map((s) => s.id)).toEqual([third.id]);
    });

    it("refuses a scheduled message that repeats an idempotency key, writing nothing", async () => {
      const [ch] = await created(store, new TestChannel());
      const author = fresh("U");
      const first = scheduled(ch!, author, T0 + 1000);
      await store.commit([ch!.write({ events: [ch!.event("channel.updated", {})], schedules: [first] })]);
      const lastSeq = ch!.record.lastSeq;

      const retry = scheduled(ch!, author, T0 + 5000, { clientMsgId: first.clientMsgId });
      const err = await store
        .commit([ch!.write({ events: [ch!.event("channel.updated", {})], schedules: [retry] })])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateSendError);
      expect((err as DuplicateSendError).keys).toEqual([
        { channelId: ch!.id, authorId: author, clientMsgId: first.clientMsgId },
      ]);
      expect(await store.readEvents(ch!.id, lastSeq, 10)).toEqual([]);

      const twice = scheduled(ch!, author, T0 + 6000);
      await expect(
        store.commit([
          ch!.write({
            events: [ch!.event("channel.updated", {})],
            schedules: [twice, { ...twice, id: fresh("S") }],
          }),
        ]),
      ).rejects.toBeInstanceOf(DuplicateSendError);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(snap!.pendingSchedules).toEqual([first]);
    });

    it("lists due scheduled messages across channels, oldest first", async () => {
      const [c1, c2] = await created(store, new TestChannel(), new TestChannel());
      const author = fresh("U");
      // Times far below every other test's, which all schedule after T0.
      const s1 = scheduled(c1!, author, 1000);
      const s2 = scheduled(c2!, author, 2000);
      const s3 = scheduled(c1!, author, 3000);
      const cancelled = scheduled(c2!, author, 1500, { status: "cancelled" });
      await store.commit([
        c1!.write({ events: [c1!.event("channel.updated", {})], schedules: [s1, s3] }),
        c2!.write({ events: [c2!.event("channel.updated", {})], schedules: [s2, cancelled] }),
      ]);
      const ours = new Set([s1.id, s2.id, s3.id, cancelled.id]);
      const due = async (now: number, limit: number) =>
        (await store.dueSchedules(now, limit)).filter((s) => ours.has(s.id));
      expect(await due(2500, 10)).toEqual([s1, s2]);
      expect(await due(2000, 10)).toEqual([s1, s2]);
      expect(await due(3000, 1)).toEqual([s1]);
      expect(await due(999, 10)).toEqual([]);
      expect(await store.dueSchedules(3000, 0)).toEqual([]);

      await store.commit([
        c1!.write({ events: [c1!.event("channel.updated", {})], schedules: [{ ...s1, status: "sent" }] }),
      ]);
      expect(await due(5000, 10)).toEqual([s2, s3]);
    });

    // ---- Directory ----

    it("updates a profile field by field", async () => {
      const id = fresh("U");
      const made = await store.upsertUser({
        id,
        username: fresh("prof-"),
        displayName: "Ada",
        role: "member",
      });
      const named = await store.updateProfile(id, { displayName: "Ada Lovelace", title: "Engineer" });
      expect(named).toEqual({ ...made, displayName: "Ada Lovelace", title: "Engineer" });
      const zoned = await store.updateProfile(id, { timeZone: "Europe/London" });
      expect(zoned).toEqual({ ...named, timeZone: "Europe/London" });
      expect(await store.updateProfile(id, {})).toEqual(zoned);
      expect(await store.updateProfile(id, { title: "" })).toEqual({ ...zoned, title: "" });
      expect(await store.getUser(id)).toEqual({ ...zoned, title: "" });
      expect(await store.updateProfile(fresh("U"), { title: "x" })).toBeNull();

      // A later login keeps the name the user chose.
      const again = await store.upsertUser({
        id,
        username: made.username,
        displayName: "ada",
        role: "moderator",
      });
      expect(again).toEqual({ ...zoned, title: "", role: "moderator" });
    });

    it("finds users by username, case-insensitively, deactivated ones included", async () => {
      const base = fresh("byname-");
      const alice = await store.upsertUser({
        id: fresh("U"),
        username: `${base}-Alice`,
        displayName: "A",
        role: "member",
      });
      const bob = await store.upsertUser({
        id: fresh("U"),
        username: `${base}-bob`,
        displayName: "B",
        role: "guest",
      });
      await hooks.deactivateUser(bob.id);
      const found = await store.getUsersByUsername([`${base}-alice`, `${base}-BOB`, `${base}-nobody`]);
      expect(found.sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(
        [alice, { ...bob, deactivated: true }].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      expect(await store.getUsersByUsername([`${base}-%`])).toEqual([]);
      expect(await store.getUsersByUsername([])).toEqual([]);
    });

    it("searches active users by prefix of username or display name, wildcards taken literally", async () => {
      const p = fresh("q").toLowerCase();
      const mk = (username: string, displayName: string) =>
        store.upsertUser({ id: fresh("U"), username, displayName, role: "member" });
      const anna = await mk(`${p}a-anna`, "Zed");
      const bert = await mk(`${p}b-bert`, "Bert");
      const carl = await mk(`zz${p}-carl`, `${p.toUpperCase()} Carl`);
      const under = await mk(`${p}_under`, "U");
      const percent = await mk(`${p}%percent`, "P");
      const slash = await mk(`${p}\\slash`, "S");
      const gone = await mk(`${p}c-gone`, "Gone");
      await hooks.deactivateUser(gone.id);

      const names = async (prefix: string, limit = 50) =>
        (await store.searchUsers(prefix, limit)).map((u) => u.username);
      // Ordered by username: the alphanumeric ones only, whose order every collation agrees on.
      expect((await names(p)).filter((n) => /^[a-z0-9-]+$/.test(n))).toEqual([
        anna.username,
        bert.username,
        carl.username,
      ]);
      expect((await names(p)).sort()).toEqual(
        [anna, bert, carl, under, percent, slash].map((u) => u.username).sort(),
      );
      expect(await names(p.toUpperCase())).toHaveLength(6);
      expect(await names(`${p}A`)).toEqual([anna.username]);
      expect(await names(`${p} carl`)).toEqual([carl.username]);
      expect(await names(`zz${p}`)).toEqual([carl.username]);
      expect(await names(`${p}_`)).toEqual([under.username]);
      expect(await names(`${p}%`)).toEqual([percent.username]);
      expect(await names(`${p}\\`)).toEqual([slash.username]);
      expect(await names(`${p}c`)).toEqual([]);
      expect(await names(p, 1)).toHaveLength(1);
      expect(await names(p, 0)).toEqual([]);
      const [first] = await store.searchUsers(`${p}b`, 10);
      expect(first).toEqual(bert);
    });

    // ---- UserState ----

    it("keeps settings, with defaults for what was never saved", async () => {
      const id = fresh("U");
      expect(await store.getSettings(id)).toEqual({ theme: "system", language: "en", notify: {} });
      await store.saveSettings(id, { theme: "dark", language: "fr", notify: { C1: "mentions" } });
      expect(await store.getSettings(id)).toEqual({
        theme: "dark",
        language: "fr",
        notify: { C1: "mentions" },
      });
      await store.saveSettings(id, { theme: "light", language: "en", notify: {} });
      expect(await store.getSettings(id)).toEqual({ theme: "light", language: "en", notify: {} });
      // Settings saved by an older version, with fields missing.
      await store.saveSettings(id, { theme: "dark" } as never);
      expect(await store.getSettings(id)).toEqual({ theme: "dark", language: "en", notify: {} });
    });

    it("moves a read marker forward only, never past the channel's last seq, for members only", async () => {
      const [ch] = await created(store, new TestChannel());
      const me = fresh("U");
      await store.commit([ch!.join(me), ch!.messages(fresh("U"), 5).write]); // seqs 3; 4..8
      expect(await store.markRead(me, ch!.id, 5)).toBe(5);
      expect(await store.markRead(me, ch!.id, 3)).toBe(5);
      expect(await store.markRead(me, ch!.id, 1000)).toBe(8);
      expect(await store.markRead(me, ch!.id, -1)).toBe(8);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(snap!.members.find((m) => m.userId === me)!.lastReadSeq).toBe(8);
      expect(await store.markRead(fresh("U"), ch!.id, 5)).toBeNull();
      expect(await store.markRead(me, fresh("C"), 5)).toBeNull();

      // The channel's writes never move it back.
      await store.commit([
        ch!.write({
          events: [ch!.event("channel.updated", {})],
          upsertMembers: [{ userId: me, role: "moderator", joinedAt: T0, lastReadSeq: 0 }],
        }),
      ]);
      const after = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(after!.members.find((m) => m.userId === me)).toMatchObject({
        role: "moderator",
        lastReadSeq: 8,
      });
    });

    it("resets a member's marker on leaving and joining again, in separate commits or one", async () => {
      const [ch] = await created(store, new TestChannel());
      const me = fresh("U");
      await store.commit([ch!.join(me), ch!.messages(fresh("U"), 3).write]); // 3; 4..6
      expect(await store.markRead(me, ch!.id, 6)).toBe(6);

      await store.commit([ch!.leave(me)]); // 7
      expect(await store.markRead(me, ch!.id, 7)).toBeNull();
      expect((await store.unreadSummary(me)).map((u) => u.channelId)).not.toContain(ch!.id);
      await store.commit([ch!.join(me, { lastReadSeq: 2, joinedAt: T0 + 800 })]); // 8
      const member = async () =>
        (await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 }))!.members.find(
          (m) => m.userId === me,
        );
      expect(await member()).toEqual({ userId: me, role: "member", joinedAt: T0 + 800, lastReadSeq: 2 });
      expect(await store.markRead(me, ch!.id, 8)).toBe(8);

      await store.commit([ch!.leave(me), ch!.join(me, { lastReadSeq: 4, joinedAt: T0 + 900 })]); // 9, 10
      expect(await member()).toEqual({ userId: me, role: "member", joinedAt: T0 + 900, lastReadSeq: 4 });
      expect(await store.unreadSummary(me)).toEqual([
        { channelId: ch!.id, lastReadSeq: 4, unread: 2, mentions: 0, threads: 0 },
      ]);
    });

    it("moves a thread's read marker forward only, for members only", async () => {
      const [ch] = await created(store, new TestChannel());
      const me = fresh("U");
      const root = ch!.message(fresh("U"), "root");
      await store.commit([ch!.join(me), ch!.post(root)]); // 3, 4
      const rootId = root.message.id;
      expect(await store.markThreadRead(me, ch!.id, rootId, 3)).toBe(3);
      expect(await store.markThreadRead(me, ch!.id, rootId, 2)).toBe(3);
      expect(await store.markThreadRead(me, ch!.id, rootId, 1000)).toBe(4);
      expect(await store.markThreadRead(fresh("U"), ch!.id, rootId, 3)).toBeNull();
      expect(await store.markThreadRead(me, fresh("C"), rootId, 3)).toBeNull();
      expect(await store.markThreadRead(me, ch!.id, fresh("M"), -5)).toBe(0);
    });

    it("sums unread messages, mentions and followed thread replies per channel", async () => {
      const me = fresh("U");
      const [a, b] = [fresh("U"), fresh("U")];
      const [ch, quiet, notMine] = await created(
        store,
        new TestChannel("public", fresh("n-"), a),
        new TestChannel("private", fresh("n-"), a),
        new TestChannel("public", fresh("n-"), a),
      );
      await store.commit([ch!.join(me), quiet!.join(me)]); // ch: 3, quiet: 3
      const c = ch!;
      const m1 = c.message(a, "hello");
      const own = c.message(me, "mine");
      const gone = c.message(a, "gone", { deletedAt: T0 + 1, text: "" });
      const named = c.message(a, "@me", { mentions: [me] });
      const here = c.message(b, "@here", { broadcast: "here" });
      const myRoot = c.message(me, "my root", { threadParticipants: [me, a] });
      const r1 = c.message(a, "reply in my thread", { threadRootId: myRoot.message.id });
      const r1Gone = c.message(a, "deleted reply", { threadRootId: myRoot.message.id, deletedAt: T0 + 2 });
      const r1Mine = c.message(me, "my own reply", { threadRootId: myRoot.message.id });
      const theirRoot = c.message(a, "their root", { threadParticipants: [a, b] });
      const r2 = c.message(b, "reply in their thread", {
        threadRootId: theirRoot.message.id,
        mentions: [me],
      });
      const followedRoot = c.message(a, "followed root", { threadParticipants: [a, b] });
      const r3 = c.message(b, "@me in a followed thread", {
        threadRootId: followedRoot.message.id,
        mentions: [me],
      });
      const unfollowedRoot = c.message(me, "unfollowed root", { threadParticipants: [me, a] });
      const r4 = c.message(a, "reply in an unfollowed thread", { threadRootId: unfollowedRoot.message.id });
      await store.commit([
        c.post(m1, own, gone, named, here, myRoot, r1, r1Gone, r1Mine, theirRoot, r2, followedRoot, r3),
        c.post(unfollowedRoot, r4),
        c.write({
          events: [c.event("thread.updated", {})],
          follows: [
            { rootId: followedRoot.message.id, userId: me, following: true },
            { rootId: unfollowedRoot.message.id, userId: me, following: false },
          ],
        }),
        notMine!.messages(a, 2).write,
      ]);

      // Unread: m1, named, here, theirRoot, followedRoot (top level, not mine, not deleted),
      // r1 (participant), r3 (explicit follow). Mentions: named, here, r3. Threads: r1, r3.
      const summary = async () => {
        const all = await store.unreadSummary(me);
        expect(all.map((u) => u.channelId).sort()).toEqual([ch!.id, quiet!.id].sort());
        return Object.fromEntries(all.map((u) => [u.channelId, u]));
      };
      expect((await summary())[c.id]).toEqual({
        channelId: c.id,
        lastReadSeq: 0,
        unread: 7,
        mentions: 3,
        threads: 2,
      });
      expect((await summary())[quiet!.id]).toEqual({
        channelId: quiet!.id,
        lastReadSeq: 0,
        unread: 0,
        mentions: 0,
        threads: 0,
      });

      expect(await store.markThreadRead(me, c.id, myRoot.message.id, r1Mine.message.seq)).toBe(
        r1Mine.message.seq,
      );
      expect((await summary())[c.id]).toMatchObject({ unread: 7, mentions: 3, threads: 1 });

      expect(await store.markRead(me, c.id, here.message.seq)).toBe(here.message.seq);
      // Left after `here`: theirRoot, followedRoot, r1, r3; mentions: r3.
      expect((await summary())[c.id]).toEqual({
        channelId: c.id,
        lastReadSeq: here.message.seq,
        unread: 4,
        mentions: 1,
        threads: 1,
      });

      // An explicit unfollow beats taking part; an explicit follow can be withdrawn.
      await store.commit([
        c.write({
          events: [c.event("thread.updated", {})],
          follows: [{ rootId: followedRoot.message.id, userId: me, following: false }],
        }),
      ]);
      expect((await summary())[c.id]).toMatchObject({ unread: 3, mentions: 0, threads: 0 });
      await store.commit([
        c.write({
          events: [c.event("thread.updated", {})],
          follows: [{ rootId: unfollowedRoot.message.id, userId: me, following: true }],
        }),
      ]);
      expect((await summary())[c.id]).toMatchObject({ unread: 4, mentions: 0, threads: 1 });

      await store.markRead(me, c.id, c.record.lastSeq);
      expect((await summary())[c.id]).toMatchObject({ lastReadSeq: c.record.lastSeq, unread: 0, threads: 1 });
      await store.markThreadRead(me, c.id, unfollowedRoot.message.id, c.record.lastSeq);
      expect((await summary())[c.id]).toMatchObject({ unread: 0, mentions: 0, threads: 0 });
      expect(await store.unreadSummary(fresh("U"))).toEqual([]);
    });

    it("finds who sees a user's presence: small channels' and direct messages' members", async () => {
      const me = fresh("U");
      const others = Array.from({ length: 10 }, () => fresh("U"));
      const [a, b, c, d, e, f, g, h, i, j] = others as [string, ...string[]];
      const small = new TestChannel("public", fresh("n-"), me);
      const big = new TestChannel("public", fresh("n-"), me);
      const dm = new TestChannel("dm", fresh("n-"), me);
      const groupDm = new TestChannel("group_dm", fresh("n-"), me);
      const without = new TestChannel("public", fresh("n-"), a);
      await created(store, small, big, dm, groupDm, without);
      await store.commit([
        small.join(a),
        small.join(b!),
        big.join(c!),
        big.join(d!),
        big.join(e!),
        dm.join(f!),
        groupDm.join(g!),
        groupDm.join(h!),
        groupDm.join(i!),
        groupDm.join(j!),
        without.join(c!),
      ]);
      // small: 3 members, big: 4, dm: 2, group dm: 5; the limit is 3.
      const audience = await store.presenceAudience(me, 3);
      expect(audience.users.sort()).toEqual([a, b, f, g, h, i, j].sort());
      expect(audience.largeChannels).toEqual([big.id]);
      const wide = await store.presenceAudience(me, 4);
      expect(wide.users.sort()).toEqual([a, b, c, d, e, f, g, h, i, j].sort());
      expect(wide.largeChannels).toEqual([]);
      const tight = await store.presenceAudience(me, 0);
      expect(tight.users.sort()).toEqual([f, g, h, i, j].sort());
      expect(tight.largeChannels.sort()).toEqual([small.id, big.id].sort());
      expect(await store.presenceAudience(fresh("U"), 3)).toEqual({ users: [], largeChannels: [] });
    });

    it("tells which users share a channel with a user", async () => {
      const me = fresh("U");
      const [mate, dmMate, stranger, neighbour] = [fresh("U"), fresh("U"), fresh("U"), fresh("U")];
      const ch = new TestChannel("private", fresh("n-"), me);
      const dm = new TestChannel("dm", fresh("n-"), dmMate);
      const elsewhere = new TestChannel("public", fresh("n-"), stranger);
      await created(store, ch, dm, elsewhere);
      await store.commit([ch.join(mate), dm.join(me), elsewhere.join(neighbour)]);
      expect(await store.sharingWith(me, [stranger, mate, me, dmMate, mate, neighbour])).toEqual([
        mate,
        me,
        dmMate,
      ]);
      expect(await store.sharingWith(me, [])).toEqual([]);
      expect(await store.sharingWith(fresh("U"), [mate])).toEqual([]);
      const loner = fresh("U");
      expect(await store.sharingWith(loner, [loner])).toEqual([loner]);
    });
  });
}

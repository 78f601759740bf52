/**
 * The one contract suite of the `Store` port. Every Store adapter runs it against its
 * real database: `describeStoreContract("pglite", () => openPgliteStore())`.
 *
 * Tests share one database per run, so each test uses its own random ids.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChannelRecord,
  type ChannelWrite,
  DuplicateSendError,
  SeqConflictError,
  type Store,
} from "../core/ports.js";
import type { ChannelEvent, ChannelEventType, ChannelKind, Member, Message } from "../core/types.js";

let counter = 0;
/** A fresh id with a kind prefix, unique within a run and across runs. */
const fresh = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

const T0 = 1_700_000_000_000;

/** A channel under construction: its record (lastSeq moves as writes are built) and pending writes. */
class TestChannel {
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
    over: Partial<Message> = {},
  ): { message: Message; event: ChannelEvent } {
    const event = this.event("message.created", { text });
    const message: Message = {
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
      mentions: [],
      files: [],
      ...over,
    };
    event.data.messageId = message.id;
    return { message, event };
  }

  /** The creation batch: channel.created then member.joined for the creator (seq 1, 2). */
  create(): ChannelWrite {
    const owner: Member = { userId: this.record.createdBy, role: "owner", joinedAt: T0, lastReadSeq: 0 };
    const events = [
      this.event("channel.created", { name: this.record.name, kind: this.record.kind }),
      this.event("member.joined", { userId: owner.userId }),
    ];
    return this.write({ events, upsertMembers: [owner] });
  }

  /** A batch of `count` messages by `authorId`. */
  messages(authorId: string, count: number): { write: ChannelWrite; messages: Message[] } {
    const messages: Message[] = [];
    const events: ChannelEvent[] = [];
    for (let i = 0; i < count; i++) {
      const { message, event } = this.message(authorId, `message ${i}`);
      messages.push(message);
      events.push(event);
    }
    return { write: this.write({ events, newMessages: messages }), messages };
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
      ...parts,
    };
  }
}

/** Creates channels in the store (one commit) and returns them. */
async function created(store: Store, ...channels: TestChannel[]): Promise<TestChannel[]> {
  await store.commit(channels.map((c) => c.create()));
  return channels;
}

const seqs = (xs: Array<{ seq: number }>) => xs.map((x) => x.seq);

/** Registers the Store contract suite for one adapter. `open` returns a new, unmigrated handle. */
export function describeStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await open();
      // Two handles migrating at once, as two processes starting together would.
      const other = await open();
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
      expect(await page({ afterSeq: 4, beforeSeq: 12, limit: 2 })).toEqual([5, 6]);
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
      const [root, other] = messages as [Message, Message];

      const edited: Message = { ...root, text: "edited", editedAt: T0 + 500, mentions: ["U9"] };
      const deleted: Message = { ...other, text: "", deletedAt: T0 + 600 };
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
      const rootWithReply: Message = { ...edited, replyCount: 1, lastReplyAt: reply.message.createdAt };
      await store.commit([
        ch!.write({
          events: [reply.event, ch!.event("message.updated", { messageId: root.id })],
          newMessages: [reply.message],
          changedMessages: [rootWithReply],
        }),
      ]);
      expect(await store.getMessage(ch!.id, root.id)).toEqual(rootWithReply);
      expect(await store.getMessage(ch!.id, reply.message.id)).toEqual(reply.message);
      expect(seqs(await store.readMessages(ch!.id, { limit: 10 }))).toEqual([3, 4, 7]);
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
      const member: Member = { userId: fresh("U"), role: "member", joinedAt: T0, lastReadSeq: 0 };
      const bystanderBatch = bystander!.messages(fresh("U"), 1);

      const err = await store
        .commit([
          stale.write({ events: [m.event], newMessages: [m.message], upsertMembers: [member] }),
          bystanderBatch.write,
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SeqConflictError);
      expect((err as SeqConflictError).channelIds).toEqual([ch!.id]);

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
      expect(rejected.reason).toBeInstanceOf(SeqConflictError);
      expect(seqs(await store.readEvents(ch!.id, 0, 100))).toEqual([1, 2, 3, 4, 5]);
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

    it("upserts and removes members", async () => {
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
          upsertMembers: [{ userId: a, role: "moderator", joinedAt: T0 + 10, lastReadSeq: 4 }],
          removedMembers: [b],
        }),
      ]);
      const snap = await store.loadChannel(ch!.id, { recentEvents: 0, recentKeys: 0 });
      expect(snap!.members).toEqual([
        { userId: owner, role: "owner", joinedAt: T0, lastReadSeq: 0 },
        { userId: a, role: "moderator", joinedAt: T0 + 10, lastReadSeq: 4 },
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

      const renamed = await store.upsertUser({
        id,
        username: `${username}-2`,
        displayName: "Ada L.",
        role: "admin",
      });
      expect(renamed).toEqual({ ...made, username: `${username}-2`, displayName: "Ada L.", role: "admin" });
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
  });
}

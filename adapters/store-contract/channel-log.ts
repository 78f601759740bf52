/**
 * The `ChannelLog` part of the Store contract: what a commit writes to each table and
 * how the log reads it back (activation snapshot, events after a seq, stored sends).
 */
import { describe, expect, it } from "vitest";
import type { ChannelWrite, ReactionRow, Store, StoredMessage } from "../../core/ports.js";
import type { Scheduled } from "../../core/types.js";
import { created, fresh, type StoreContractHooks, scheduled, seqs, T0, TestChannel } from "./test-data.js";

/** Registers the ChannelLog tests over `store`, which the suite opens before they run. */
export function describeChannelLogContract(store: Store, hooks: StoreContractHooks): void {
  describe("ChannelLog", () => {
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

    it("commits concurrently for different channels", async () => {
      const chs = await created(store, ...Array.from({ length: 8 }, () => new TestChannel()));
      const author = fresh("U");
      await Promise.all(chs.map((c) => store.commit([c.messages(author, 5).write])));
      for (const c of chs) {
        expect(seqs(await store.readMessages(c.id, { limit: 100 }))).toEqual([3, 4, 5, 6, 7]);
      }
    });

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
  });
}

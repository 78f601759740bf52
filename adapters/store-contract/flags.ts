/**
 * The `FlagStore` part of the Store contract (moderation, issue 23): flags written by a
 * channel's commit read back for that channel only, one open flag per message and
 * reporter, resolution, the moderators' queue newest first with filters and pages and
 * each flagged message as moderators see it (the original text of a removed message),
 * and the audit entries of a removal committed with it.
 */
import { describe, expect, it } from "vitest";
import { newFlagId } from "../../core/ids.js";
import { newFlag, resolvedFlag } from "../../core/moderation-rules.js";
import type { Store, StoredMessage } from "../../core/ports.js";
import type { Flag } from "../../core/types.js";
import { created, fresh, TestChannel } from "./test-data.js";

/** Registers the FlagStore tests over `store`, which the suite opens before they run. */
export function describeFlagStoreContract(store: Store): void {
  /** A new open flag of `messageId` in `ch`, made at `at`. */
  const flagOf = (ch: TestChannel, messageId: string, reporterId: string, at = Date.now()): Flag =>
    newFlag({
      id: newFlagId(ch.id, at),
      messageId,
      channelId: ch.id,
      reporterId,
      reason: `spam ${fresh("r")}`,
      createdAt: at,
    });

  /** A channel with one message by a fresh author, committed. */
  async function channelWithMessage(): Promise<{ ch: TestChannel; message: StoredMessage }> {
    const [ch] = await created(store, new TestChannel("private"));
    const made = ch!.message(fresh("U"), "buy cheap watches @everyone");
    await store.commit([ch!.post(made)]);
    return { ch: ch!, message: made.message };
  }

  describe("FlagStore", () => {
    it("reads a committed flag back for its channel only, and finds a message's open ones, oldest first", async () => {
      const { ch, message } = await channelWithMessage();
      const [other] = await created(store, new TestChannel());
      const reporter = fresh("U");
      const flag = flagOf(ch, message.id, reporter);
      await store.commit([ch.write({ flags: [flag] })]);
      expect(await store.getFlag(ch.id, flag.id)).toEqual(flag);
      expect(await store.getFlag(other!.id, flag.id)).toBeNull();
      expect(await store.getFlag(ch.id, newFlagId(ch.id))).toBeNull();
      expect(await store.openFlagsOf(ch.id, message.id)).toEqual([flag]);
      expect(await store.openFlagsOf(other!.id, message.id)).toEqual([]);
      const second = flagOf(ch, message.id, fresh("U"), Date.now() + 1);
      await store.commit([ch.write({ flags: [second] })]);
      expect(await store.openFlagsOf(ch.id, message.id)).toEqual([flag, second]);
    });

    it("resolves a flag once its channel writes it again, and never from another channel's write", async () => {
      const { ch, message } = await channelWithMessage();
      const [other] = await created(store, new TestChannel());
      const reporter = fresh("U");
      const flag = flagOf(ch, message.id, reporter);
      await store.commit([ch.write({ flags: [flag] })]);
      const forged = resolvedFlag(flag, "dismissed", fresh("U"), Date.now(), "forged");
      await store.commit([other!.write({ flags: [{ ...forged, channelId: other!.id }] })]);
      expect(await store.getFlag(ch.id, flag.id)).toEqual(flag);
      const resolved = resolvedFlag(flag, "dismissed", fresh("U"), Date.now(), "not spam");
      await store.commit([ch.write({ flags: [resolved] })]);
      expect(await store.getFlag(ch.id, flag.id)).toEqual(resolved);
      expect(await store.openFlagsOf(ch.id, message.id)).toEqual([]);
      // Open again once the first is resolved: a new flag of the same message by the same reporter.
      const again = flagOf(ch, message.id, reporter, Date.now() + 1);
      await store.commit([ch.write({ flags: [again] })]);
      expect(await store.openFlagsOf(ch.id, message.id)).toEqual([again]);
    });

    it("lists flags newest first by status, in pages, with their channel and the original text of a removed message", async () => {
      const { ch, message } = await channelWithMessage();
      const t = Date.now() + 60_000;
      const flags = [0, 1, 2].map((i) => flagOf(ch, message.id, fresh("U"), t + i));
      await store.commit([ch.write({ flags })]);
      // A moderator removes the message and resolves the newest flag, in one commit.
      const moderator = fresh("U");
      const removed: StoredMessage = { ...message, text: "", mentions: [], deletedAt: t + 10 };
      const resolved = resolvedFlag(flags[2]!, "removed", moderator, t + 10, undefined);
      const target = message.id;
      await store.commit([
        ch.write({
          events: [
            ch.event("message.deleted", { messageId: message.id, removedBy: moderator, reason: "spam" }),
          ],
          changedMessages: [removed],
          flags: [resolved],
          removals: [
            {
              messageId: message.id,
              channelId: ch.id,
              removedBy: moderator,
              reason: "spam",
              removedAt: t + 10,
              original: message,
            },
          ],
          audit: [
            {
              actorId: moderator,
              action: "msg.remove",
              target,
              details: { channelId: ch.id, reason: "spam", original: { text: message.text } },
              at: t + 10,
              ip: "198.51.100.4",
              requestId: "req-1",
            },
          ],
        }),
      ]);

      const all = await store.listFlags({ limit: 3 });
      expect(all.map((f) => f.id)).toEqual([flags[2]!.id, flags[1]!.id, flags[0]!.id]);
      expect(all[0]).toMatchObject({ status: "resolved", resolution: "removed", resolvedBy: moderator });
      // Moderators see the removed message's text, and where it was said (a private channel
      // they need not be in); the channel holds it deleted.
      for (const f of all) {
        expect(f.message).toMatchObject({ id: message.id, text: message.text, deletedAt: t + 10 });
        expect(f.channel).toEqual({ name: ch.record.name, kind: "private" });
      }
      expect((await store.getMessage(ch.id, message.id))?.text).toBe("");

      const open = await store.listFlags({ status: "open", limit: 1 });
      expect(open.map((f) => f.id)).toEqual([flags[1]!.id]);
      const next = await store.listFlags({ status: "open", limit: 5, before: open[0]!.id });
      expect(next[0]!.id).toBe(flags[0]!.id);
      expect(next.every((f) => f.status === "open")).toBe(true);
      const resolvedOnly = await store.listFlags({ status: "resolved", limit: 1 });
      expect(resolvedOnly.map((f) => f.id)).toEqual([flags[2]!.id]);

      // The removal's audit entry was appended, chained, in the same commit.
      const audit = await store.listAudit({ target, limit: 5 });
      expect(audit.entries).toHaveLength(1);
      expect(audit.entries[0]).toMatchObject({
        actorId: moderator,
        action: "msg.remove",
        ip: "198.51.100.4",
        requestId: "req-1",
        details: { reason: "spam", original: { text: message.text } },
      });
      expect(audit.entries[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it("keeps the first original of a message removed twice in one commit", async () => {
      const { ch, message } = await channelWithMessage();
      const keep = (removedBy: string, text: string) => ({
        messageId: message.id,
        channelId: ch.id,
        removedBy,
        reason: "spam",
        removedAt: Date.now(),
        original: { ...message, text },
      });
      const flag = flagOf(ch, message.id, fresh("U"), Date.now() + 120_000);
      await store.commit([
        ch.write({ flags: [flag], removals: [keep("U1", message.text), keep("U2", "second")] }),
      ]);
      const [listed] = await store.listFlags({ limit: 1 });
      expect(listed?.id).toBe(flag.id);
      expect(listed?.message?.text).toBe(message.text);
    });
  });
}

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeStoreContract } from "../store-contract.js";
import { openPgliteStore } from "./pglite-store.js";

describeStoreContract("pglite (in memory)", () => openPgliteStore());

describe("pglite store on disk", () => {
  it("keeps committed data across a close and a reopen", async () => {
    const base = await mkdtemp(join(tmpdir(), "colink-pglite-"));
    const dataDir = join(base, "nested", "db");
    try {
      const first = await openPgliteStore({ dataDir });
      await first.migrate();
      const channel = {
        id: "C1",
        name: "general",
        kind: "public" as const,
        topic: "",
        createdBy: "U1",
        createdAt: 1,
        archived: false,
        lastSeq: 1,
      };
      await first.commit([
        {
          channel,
          events: [{ channelId: "C1", seq: 1, type: "channel.created", data: {}, at: 1 }],
          newMessages: [],
          changedMessages: [],
          upsertMembers: [{ userId: "U1", role: "owner", joinedAt: 1, lastReadSeq: 0 }],
          removedMembers: [],
        },
      ]);
      await first.close();

      const second = await openPgliteStore({ dataDir });
      await second.migrate();
      const snap = await second.loadChannel("C1", { recentEvents: 10, recentKeys: 10 });
      expect(snap?.channel).toEqual(channel);
      expect(snap?.recentEvents.map((e) => e.seq)).toEqual([1]);
      await second.close();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 60_000);
});

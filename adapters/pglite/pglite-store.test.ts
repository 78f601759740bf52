import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newMessage } from "../../core/message-rules.js";
import { sqlContractHooks } from "../sql/contract-hooks.js";
import { migrations } from "../sql/migrations.js";
import { SqlStore } from "../sql/sql-store.js";
import { channelWrite } from "../store-contract/test-data.js";
import { describeStoreContract } from "../store-contract.js";
import { initDataDirInChild, openPglite, openPgliteStore, pgliteDriver } from "./pglite-store.js";

describeStoreContract(
  "pglite (in memory)",
  async () => {
    const driver = pgliteDriver(await openPglite());
    return { store: new SqlStore(driver), hooks: sqlContractHooks(driver) };
  },
  async (migrationId) => {
    const driver = pgliteDriver(await openPglite());
    const stop = migrations.findIndex((m) => m.id === migrationId);
    if (stop < 0) throw new Error(`no migration ${migrationId}`);
    return {
      early: new SqlStore(driver, { migrations: migrations.slice(0, stop) }),
      full: new SqlStore(driver),
      close: () => driver.close(),
    };
  },
);

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
        channelWrite(channel, {
          events: [{ channelId: "C1", seq: 1, type: "channel.created", data: {}, at: 1 }],
          upsertMembers: [{ userId: "U1", role: "owner", joinedAt: 1, lastReadSeq: 0 }],
        }),
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

describe("pglite memory settings", () => {
  it("makes a new folder with them and applies them over an older folder's postgresql.conf", async () => {
    const base = await mkdtemp(join(tmpdir(), "colink-pglite-"));
    const dataDir = join(base, "db");
    try {
      const first = await openPglite({ dataDir });
      expect((await first.query("SHOW shared_buffers")).rows).toEqual([{ shared_buffers: "48MB" }]);
      await first.close();
      // initdb (in its child process) wrote them into the folder.
      const conf = join(dataDir, "postgresql.conf");
      expect(await readFile(conf, "utf8")).toMatch(/^shared_buffers = 48MB/m);
      // A folder made before them says 128MB; the start parameters win.
      await appendFile(conf, "\nshared_buffers = 128MB\n");
      const second = await openPglite({ dataDir });
      expect((await second.query("SHOW shared_buffers")).rows).toEqual([{ shared_buffers: "48MB" }]);
      expect((await second.query("SHOW maintenance_work_mem")).rows).toEqual([
        { maintenance_work_mem: "16MB" },
      ]);
      await second.close();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 60_000);

  it("reports an initdb that fails in its child process", async () => {
    const base = await mkdtemp(join(tmpdir(), "colink-pglite-"));
    const notADir = join(base, "file");
    try {
      await writeFile(notADir, "x");
      await expect(initDataDirInChild(notADir)).rejects.toThrow(/PGlite initdb in .* failed \(exit 1\)/);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("pglite store upgraded from the first migration", () => {
  it("reads rows written before 0002 with the new fields' defaults", async () => {
    const driver = pgliteDriver(await openPglite());
    try {
      await new SqlStore(driver, { migrations: migrations.slice(0, 1) }).migrate();
      await driver.exec(`
        INSERT INTO users (id, username, display_name, role, created_at) VALUES ('U1', 'ada', 'Ada', 'member', 5);
        INSERT INTO channels (id, name, kind, created_by, created_at, last_seq) VALUES ('C1', 'general', 'public', 'U1', 1, 4);
        INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_seq) VALUES ('C1', 'U1', 'owner', 1, 2);
        INSERT INTO messages (id, channel_id, seq, author_id, text, client_msg_id, created_at, mentions)
          VALUES ('M1', 'C1', 3, 'U1', 'old', 'k1', 3, '["U2"]');
        INSERT INTO messages (id, channel_id, seq, author_id, text, client_msg_id, created_at, thread_root_id)
          VALUES ('M2', 'C1', 4, 'U1', 'old reply', 'k2', 4, 'M1');
      `);
      const store = new SqlStore(driver);
      await store.migrate();
      expect(await store.getMessage("C1", "M1")).toEqual({
        ...newMessage({
          id: "M1",
          channelId: "C1",
          seq: 3,
          authorId: "U1",
          text: "old",
          clientMsgId: "k1",
          createdAt: 3,
        }),
        mentions: ["U2"],
      });
      expect((await store.readMessages("C1", { limit: 10, thread: "M1" })).map((m) => m.id)).toEqual(["M2"]);
      expect(await store.getUser("U1")).toEqual({
        id: "U1",
        username: "ada",
        displayName: "Ada",
        role: "member",
        title: "",
        timeZone: "",
        avatarFileId: null,
        deactivated: false,
        createdAt: 5,
      });
      expect((await store.searchUsers("AD", 10)).users).toHaveLength(1);
      expect(await store.loadChannel("C1", { recentEvents: 0, recentKeys: 10 })).toMatchObject({
        pendingSchedules: [],
        recentKeys: [
          { authorId: "U1", clientMsgId: "k1", messageId: "M1" },
          { authorId: "U1", clientMsgId: "k2", messageId: "M2" },
        ],
      });
    } finally {
      await driver.close();
    }
  }, 60_000);
});

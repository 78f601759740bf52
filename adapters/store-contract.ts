/**
 * The one contract suite of the `Store` port. Every Store adapter runs it against its
 * real database: `describeStoreContract("pglite", async () => ({ store, hooks }))`.
 * Its parts, one per port the Store is made of, are in store-contract/; every adapter
 * runs them all.
 *
 * Tests share one database per run, so each test uses its own random ids.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeSearchIndexContract, describeUserSearchContract } from "./search-contract.js";
import { describeAuditContract } from "./store-contract/audit.js";
import { describeChannelLogContract } from "./store-contract/channel-log.js";
import { describeChannelLogConflictsContract } from "./store-contract/channel-log-conflicts.js";
import { describeClusterContract } from "./store-contract/cluster.js";
import { describeDirectoryContract } from "./store-contract/directory.js";
import { describeFileStoreContract } from "./store-contract/files.js";
import { describeFlagStoreContract } from "./store-contract/flags.js";
import { describeLogFeedContract } from "./store-contract/log-feed.js";
import { describeMessageHistoryContract } from "./store-contract/message-history.js";
import { describeScheduleQueueContract } from "./store-contract/schedule-queue.js";
import { type OpenEmptyDatabase, type OpenedStore, openedLater } from "./store-contract/test-data.js";
import { describeUserEventContract } from "./store-contract/user-events.js";
import { describeUserStateContract } from "./store-contract/user-state.js";

/**
 * Registers the Store contract suite for one adapter. `open` returns a new, unmigrated
 * handle and the test hooks over its database; `openEmpty`, a new empty database whose
 * migrations can stop part way (for the tests of a migration over older data).
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<OpenedStore>,
  openEmpty: OpenEmptyDatabase,
): void {
  describe(`Store contract: ${name}`, () => {
    let opened: OpenedStore | undefined;
    const store = openedLater(() => opened!.store);
    const hooks = openedLater(() => opened!.hooks);

    beforeAll(async () => {
      opened = await open();
      // Two handles migrating at once, as two processes starting together would.
      const { store: other } = await open();
      try {
        await Promise.all([store.migrate(), other.migrate()]);
      } finally {
        await other.close();
      }
    }, 60_000);

    afterAll(async () => {
      await opened?.store.close();
    });

    it("migrates again harmlessly, and pings", async () => {
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate()]);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    describeChannelLogContract(store, hooks);
    describeChannelLogConflictsContract(store);
    describeMessageHistoryContract(store);
    describeScheduleQueueContract(store);
    describeDirectoryContract(store, hooks, openEmpty);
    describeUserStateContract(store);
    describeClusterContract(store);
    describeLogFeedContract(store);
    describeUserEventContract(store);
    describeFileStoreContract(store);
    describeFlagStoreContract(store);
    describeAuditContract(store, hooks);
    // The Store is also the default SearchIndex (Postgres full-text).
    describeSearchIndexContract(name, store);
    describeUserSearchContract(name, store, async (users) => {
      for (const { id, username, displayName, role, deactivated } of users) {
        await store.upsertUser({ id, username, displayName, role });
        if (deactivated) await hooks.deactivateUser(id);
      }
    });
  });
}

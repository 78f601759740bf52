/**
 * `npm run reindex`: brings the configured search index (OpenSearch with `OPENSEARCH_URL`,
 * else Postgres full-text) up to the channel logs from this process, with a progress line
 * every few seconds (events, rate, what is left, ETA). It follows the logs exactly as the
 * server's indexer does and keeps the same positions, so it can be stopped and run again
 * (it resumes), and a running server's indexer may share the work. `--from-scratch` first
 * forgets the positions, so every channel's whole log is indexed again (documents carry
 * their event's seq, so nothing is indexed twice over). With the embedded store (PGlite)
 * the server must be stopped: one process owns its database.
 *
 * OpenSearch also holds people: the user-event outbox is followed to its end, and every
 * user of the users table is written at version 0, which any outbox entry outranks, so a
 * user whom no outbox entry names yet (one from before the outbox) is found too.
 */
import { LogFollower } from "../actors/runtime/log-follower.js";
import {
  externalSearchFollower,
  indexedUsersOf,
  searchFollower,
  searchIndexing,
} from "../actors/runtime/search-indexer.js";
import { UserEventFollower } from "../actors/runtime/user-event-follower.js";
import { OpenSearchIndex } from "../adapters/opensearch/opensearch-index.js";
import type { Logger } from "../core/logger.js";
import type { SearchIndex, Store } from "../core/ports.js";
import { loadConfig } from "./load-config.js";
import { createLogger } from "./logger.js";
import { openConfiguredStore } from "./stores.js";

const progressEveryMs = 3000;
/** Never by their timers: the followers here are polled by hand. */
const byHand = 2 ** 31 - 1;
/** Users written per request when the people are filled from the users table. */
const usersPerPage = 500;

/** Indexes the channel logs beyond `follower`'s positions, reporting progress. */
async function indexLogs(store: Store, index: SearchIndex, follower: string, logger: Logger): Promise<void> {
  const remaining = async () =>
    (await store.feedBacklog(follower, 1_000_000)).reduce((n, c) => n + c.lastSeq - c.handledSeq, 0);
  const total = await remaining();
  let done = 0;
  const indexing = searchIndexing(index, store);
  const logs = new LogFollower(
    {
      name: follower,
      feed: store,
      log: store,
      owns: () => true,
      handle: async (runs) => {
        await indexing(runs);
        done += runs.reduce((n, run) => n + run.events.length, 0);
      },
      logger,
    },
    byHand,
  );
  const started = Date.now();
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = done / Math.max(seconds, 0.001);
    const left = Math.max(0, total - done);
    const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : "unknown";
    logger.info(
      { done, total, rate: Math.round(rate), left },
      `reindex: ${done}/${total} events, ${Math.round(rate)}/s, ETA ${eta}`,
    );
  };
  const timer = setInterval(report, progressEveryMs);
  try {
    logger.info({ total }, `reindex: ${total} events to index`);
    // poll() handles up to 500 channels at a time; go on until nothing is left. A poll
    // that handled nothing while events are left failed (it logged why): wait, retry.
    while ((await remaining()) > 0) {
      if ((await logs.poll()) === 0) await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    clearInterval(timer);
    logs.stop();
  }
  report();
}

/** Brings OpenSearch's people up to the outbox, then writes every user whom it does not hold yet. */
async function indexPeople(store: Store, index: SearchIndex, logger: Logger): Promise<void> {
  const outbox = new UserEventFollower(
    {
      follower: externalSearchFollower,
      read: (afterId, limit) => store.readUserEvents(afterId, limit),
      feed: store,
      handle: (events) => index.indexUsers(indexedUsersOf(events)),
      hosted: () => true,
      now: Date.now,
      logger,
    },
    byHand,
  );
  try {
    while ((await outbox.poll()) > 0 || outbox.status.failing) {
      if (outbox.status.failing) await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    outbox.stop();
  }
  let users = 0;
  for (let after = ""; ; ) {
    const page = await store.listUsers(after, usersPerPage);
    if (page.length === 0) break;
    await index.indexUsers(page.map((user) => ({ user, version: 0 })));
    users += page.length;
    after = page[page.length - 1]!.id;
  }
  logger.info({ users }, `reindex: ${users} users written where the index did not hold them`);
}

async function reindex(fromScratch: boolean): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel).child({ module: "reindex" });
  const store = await openConfiguredStore(config);
  const external = config.opensearchUrl
    ? await OpenSearchIndex.open({ url: config.opensearchUrl, prefix: config.searchIndexPrefix })
    : null;
  const follower = external ? externalSearchFollower : searchFollower;
  try {
    logger.info({ index: external ? "opensearch" : "postgres", fromScratch }, "reindex: starting");
    if (fromScratch) await store.forgetFollower(follower);
    await indexLogs(store, external ?? store, follower, logger);
    if (external) await indexPeople(store, external, logger);
  } finally {
    await external?.close();
    await store.close();
  }
}

reindex(process.argv.includes("--from-scratch")).catch((err: unknown) => {
  console.error(`colink reindex: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * `npm run reindex`: brings the search index up to the channel logs from this process,
 * with a progress line every few seconds (events, rate, what is left, ETA). It follows the
 * logs exactly as the server's indexer does and keeps the same positions, so it can be
 * stopped and run again (it resumes), and a running server's indexer may share the work.
 * `--from-scratch` first forgets the positions, so every channel's whole log is indexed
 * again (documents carry their event's seq, so nothing is indexed twice over). With the
 * embedded store (PGlite) the server must be stopped: one process owns its database.
 */
import { LogFollower } from "../actors/runtime/log-follower.js";
import { searchFollower, searchIndexing } from "../actors/runtime/search-indexer.js";
import { loadConfig } from "./load-config.js";
import { createLogger } from "./logger.js";
import { openConfiguredStore } from "./stores.js";

const progressEveryMs = 3000;

async function reindex(fromScratch: boolean): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel).child({ module: "reindex" });
  const store = await openConfiguredStore(config);
  try {
    if (fromScratch) await store.forgetFollower(searchFollower);
    const remaining = async () =>
      (await store.feedBacklog(searchFollower, 1_000_000)).reduce((n, c) => n + c.lastSeq - c.handledSeq, 0);
    const total = await remaining();
    let done = 0;
    const indexing = searchIndexing(store, store);
    const follower = new LogFollower(
      {
        name: searchFollower,
        feed: store,
        log: store,
        owns: () => true,
        handle: async (channelId, events) => {
          await indexing(channelId, events);
          done += events.length;
        },
        logger,
      },
      // Polled below, not by its timer.
      2 ** 31 - 1,
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
      logger.info({ total, fromScratch }, `reindex: ${total} events to index`);
      // poll() handles up to 500 channels at a time; go on until nothing is left. A poll
      // that handled nothing while events are left failed (it logged why): wait, retry.
      while ((await remaining()) > 0) {
        if ((await follower.poll()) === 0) await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      clearInterval(timer);
      follower.stop();
    }
    report();
  } finally {
    await store.close();
  }
}

reindex(process.argv.includes("--from-scratch")).catch((err: unknown) => {
  console.error(`colink reindex: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/** Entry of an actor worker thread: opens this thread's store and runs its actors. */
import { workerData } from "node:worker_threads";
import { shardOf, workerOfShard } from "../actors/runtime/placement.js";
import { runActorWorker } from "../actors/runtime/worker-host.js";
import type { Config } from "../core/config.js";
import { createLogger } from "./logger.js";
import { commitsInFlightFor } from "./stores.js";
import { openThreadPorts } from "./thread-ports.js";

const { index, count, config } = workerData as { index: number; count: number; config: Config };
const logger = createLogger(config.logLevel).child({ module: "actors", worker: index });
await runActorWorker(
  // One consumer of the search feed per node: the first worker's.
  () => openThreadPorts(config, logger, { thread: `w${index}`, runsSearchFeed: index === 0 }),
  config.limits,
  commitsInFlightFor(config),
  (key) => workerOfShard(shardOf(key, config.shards), count) === index,
  config.shards,
  logger,
);

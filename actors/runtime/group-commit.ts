/**
 * Group commit for one thread: the write batches that channel actors submit while a
 * transaction is running are folded into the next transaction, so throughput grows with
 * load while every ack still waits for its commit (invariant 3).
 */
import { type Logger, silentLogger } from "../../core/logger.js";
import { type ChannelLog, type ChannelWrite, DuplicateSendError, StoreConflict } from "../../core/ports.js";

interface Submission {
  write: ChannelWrite;
  /** The call ids of the requests the write acknowledges, for the debug line (else empty). */
  callIds: readonly number[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Options of the committer. */
export interface GroupCommitOptions {
  /** Transactions running at once (1 keeps strict batching; more overlaps round trips). */
  maxInFlight: number;
  /** Most channel writes folded into one transaction. */
  maxWrites: number;
}

/** Folds concurrent channel writes into shared transactions. */
export class GroupCommitter {
  private queue: Submission[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Transactions committed, for the benchmark report. */
  commits = 0;
  /** Checked once: a line per transaction only at debug. */
  readonly debug: boolean;

  constructor(
    /** Only the commit: the committer never reads. */
    private readonly log: Pick<ChannelLog, "commit">,
    private readonly opts: GroupCommitOptions = { maxInFlight: 1, maxWrites: 500 },
    private readonly logger: Logger = silentLogger,
  ) {
    this.debug = logger.isLevelEnabled("debug");
  }

  /**
   * Resolves once `write` is durable; rejects with the store's error when it was not
   * written. `callIds` (given at debug only) name the requests it acknowledges in the
   * transaction's log line, so one grep follows a request to the store.
   */
  submit(write: ChannelWrite, callIds: readonly number[] = []): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, callIds, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // setImmediate lets every actor that runs in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      // Share the queue among the free transaction slots: after a commit every actor's
      // next batch arrives at once, and one transaction for all of them would leave the
      // other slot idle while the database and this thread take turns.
      while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
        const share = Math.ceil(this.queue.length / (this.opts.maxInFlight - this.inFlight));
        void this.run(this.queue.splice(0, Math.min(share, this.opts.maxWrites)));
      }
    });
  }

  private async run(batch: Submission[]): Promise<void> {
    this.inFlight++;
    const started = this.debug ? performance.now() : 0;
    try {
      await this.log.commit(batch.map((s) => s.write));
      this.commits++;
      if (this.debug) this.logCommit(batch, started);
      for (const s of batch) s.resolve();
    } catch (err) {
      if (!(err instanceof StoreConflict || err instanceof DuplicateSendError) || batch.length === 1) {
        for (const s of batch) s.reject(err);
      } else {
        // One channel's conflict must not fail the others: reject it (with the error's
        // own kind, narrowed to it), retry the rest.
        const culprits = new Set(err.channelIds);
        const retry: Submission[] = [];
        for (const s of batch) {
          if (culprits.has(s.write.channel.id)) s.reject(err.narrowedTo(s.write.channel.id));
          else retry.push(s);
        }
        this.queue.unshift(...retry);
      }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private logCommit(batch: readonly Submission[], started: number): void {
    this.logger.debug(
      {
        channels: batch.map((s) => s.write.channel.id),
        callIds: batch.flatMap((s) => s.callIds),
        events: batch.reduce((n, s) => n + s.write.events.length, 0),
        ms: Math.round((performance.now() - started) * 100) / 100,
      },
      "store commit",
    );
  }
}

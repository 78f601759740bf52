/**
 * The durable-ack floor for S1: what a `msg.send` acknowledged after commit costs when
 * nothing but Postgres is in the way. Each sender is one connection that commits one
 * message (its `messages` row and its event, one statement, Colink's schema) per request,
 * on the same schedule as Colink's senders (closed loop or constant rate, latency from the
 * intended send time). Colink's S1 latency minus this floor, at the same offered rate, is
 * what Colink adds to the commit; Colink can beat the floor's peak by group commit.
 *
 * It runs as a generator process (bench/lib/generators.ts), so its CPU is measured apart.
 */
import { type LoadMeasurement, type LoadSchedule, measureLoad } from "../lib/load-schedule.js";
import { insertBatch, MessageRows, openRawSchema } from "./raw-postgres.js";

/** One run of the floor. */
export interface RawAckTask extends LoadSchedule {
  url: string;
  /** When the load starts (epoch ms), after the set-up, so that CPU can be measured over the window. */
  startAt: number;
  textBytes: number;
}

/** What it measured in the window after the warm-up (commit latency), and the check. */
export interface RawAckResult extends LoadMeasurement {
  /** Messages in the table at the end: must equal every commit made, warm-up included. */
  persisted: number;
  committed: number;
}

export default async function rawPostgresAcks(task: RawAckTask): Promise<RawAckResult> {
  // One connection per sender, like one socket per Colink sender; as many channels.
  const { sql, close } = await openRawSchema(task.url, task.senders);
  try {
    // Seqs are taken when a message is built, so commits finishing out of order never collide.
    const rows = new MessageRows(task.senders, task.textBytes);
    // Open every connection before the clock starts.
    await Promise.all(Array.from({ length: task.senders }, () => sql`SELECT 1`));
    let committed = 0;
    await new Promise((r) => setTimeout(r, Math.max(0, task.startAt - Date.now())));
    const measured = await measureLoad(task, () =>
      insertBatch(sql, rows.next(1)).then(() => {
        committed++;
      }),
    );
    const [count] = await sql<Array<{ n: string }>>`SELECT count(*)::text AS n FROM messages`;
    return { ...measured, persisted: Number(count!.n), committed };
  } finally {
    await close();
  }
}

/**
 * The subscribers of S6 (reconnect storm). One process holds a share of the clients:
 * each is one connection subscribed to a few channels. At the agreed moment every client
 * drops its connection at once, without a close handshake (as a crashed app or a dead
 * network would), stays down for `downMs`, then reconnects after a random delay drawn
 * like the SDK's (full jitter, client/backoff.ts) and resumes every channel with
 * `sub {channelId, sinceSeq: <last seq seen>}`.
 *
 * Every client checks every channel event it gets against the last seq it saw on that
 * channel: a seq at or below it is a duplicate, a seq beyond the next one is a gap (lost
 * events), and at the end any seq up to the channel's final seq never received is lost.
 * After the drop, it notes when each seq arrived (the latest arrival over its clients),
 * which the scenario turns into the time at which every client had caught up.
 *
 * Rendezvous notes (bench/lib/rendezvous.ts): posts `ready-<index>` once every client is
 * subscribed; reads `go` ({dropAt, downMs}); posts `resumed-<index>` when every client has
 * resubscribed; reads `final` (each channel's last seq after the publisher stopped) and
 * waits until every client has it, or until `settleTimeoutMs`.
 */
import { backoffDelay } from "../../client/backoff.js";
import { Rendezvous, wallNow } from "../lib/rendezvous.js";
import { encodeHistogram, newHistogram } from "../lib/stats.js";
import { WireClient, WireError } from "../lib/wire.js";

/** What one generator process does. */
export interface StormTask {
  index: number;
  wsUrl: string;
  rendezvous: string;
  channels: string[];
  tokens: string[];
  /** Each client: the user whose token it uses and the channels (indexes) it subscribes to. */
  clients: Array<{ user: number; channels: number[] }>;
  /** Source addresses to spread the connections over (127.0.x.y), or empty. */
  localAddresses: string[];
  /** Reconnect delays: the SDK's full jitter, uniform in [0, min(max, min·2^attempt)). */
  jitter: { minDelayMs: number; maxDelayMs: number };
  /** How long every client stays down after the drop before its first (jittered) attempt. */
  downMs: number;
  connectConcurrency: number;
  connectTimeoutMs: number;
  /** A `sub` unanswered this long counts as a timeout; the client then reconnects. */
  subTimeoutMs: number;
  /**
   * After a timeout, how much longer the old connection waits for that reply (events
   * ignored): a reply then is late; none at all means the server dropped the request.
   */
  probeMs: number;
  setupTimeoutMs: number;
  /** Clients not resumed this long after the drop give up (their missing events count as lost). */
  resumeDeadlineMs: number;
  /** After `final`, how long to wait for the last events to arrive. */
  settleTimeoutMs: number;
}

/** When the seqs of one channel arrived after the drop (latest over this process's clients). */
export interface Arrivals {
  /** The seq of `at[0]`. */
  base: number;
  /** Wall-clock ms; null where no client got that seq after the drop. */
  at: Array<number | null>;
}

/** What one generator process measured. */
export interface StormResult {
  index: number;
  clients: number;
  subscriptions: number;
  setupMs: number;
  /** How long terminating every connection took. */
  dropMs: number;
  resumed: number;
  /** Wall-clock time the last client had every `sub` answered (0 if none resumed). */
  lastResumedAt: number;
  /** From the drop to each client's resumption (every `sub` answered), µs, compressed. */
  resumeHistogram: string;
  /** Of each successful reconnect after the drop: the WebSocket upgrade, µs, compressed. */
  connectHistogram: string;
  /** Of each successful reconnect after the drop: from the open to the last `sub` reply, µs. */
  subHistogram: string;
  connectFailures: number;
  subTimeouts: number;
  /** Timed-out `sub`s answered later, within `probeMs`. */
  subLate: number;
  /** Timed-out `sub`s never answered (not within `subTimeoutMs` + `probeMs`). */
  subNeverAnswered: number;
  subErrors: number;
  /** Connections closed by the server after the drop (slow consumer…); they resume again. */
  serverCloses: number;
  resyncs: number;
  /** Events skipped by resyncs (the client reloads them from history instead). */
  resyncSkipped: number;
  /** Events received before a resubscription's reply (the replay). */
  replayed: number;
  events: number;
  duplicates: number;
  /** Events skipped over by a later seq. */
  gapLost: number;
  /** Events up to a channel's final seq that never arrived. */
  tailLost: number;
  lossyClients: number;
  duplicatingClients: number;
  /** The first few losses and duplicates, described. */
  examples: string[];
  /** Per channel id: the highest `lastSeq` of a resubscription reply. */
  replyLastSeq: Record<string, number>;
  /** Per channel id: when each seq had arrived at every client of this process. */
  arrivals: Record<string, Arrivals>;
}

interface Sub {
  ch: number;
  /** Last seq seen; -1 until the first `sub` reply. */
  last: number;
  /** Seq seen before the drop. */
  atDrop: number;
  /**
   * Events of this channel that came while its `sub` reply was outstanding: seq and
   * arrival time. `ws` can hand over the reply and the frames after it in one go, before
   * the reply's promise continues, so they are applied in frame order once it does.
   */
  held: Array<[number, number]> | null;
}

interface Client {
  i: number;
  token: string;
  addr: string | undefined;
  subs: Sub[];
  conn: WireClient | null;
  /** Connection generation: events of an older connection are ignored. */
  gen: number;
  resuming: boolean;
  resumedAt: number;
  lossy: boolean;
  duplicating: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Rejects after `ms`; a late connection is dropped. */
function connectWithin(
  url: string,
  token: string,
  addr: string | undefined,
  ms: number,
): Promise<WireClient> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`connect timed out after ${ms} ms`));
    }, ms);
    WireClient.connect(url, token, addr).then(
      (c) => {
        clearTimeout(timer);
        if (settled) c.terminate();
        else {
          settled = true;
          resolve(c);
        }
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!settled) {
          settled = true;
          reject(err);
        }
      },
    );
  });
}

/** A request that went unanswered too long; `pending` is the request, which may still be answered. */
class SubTimeout extends Error {
  constructor(
    message: string,
    readonly pending: Promise<unknown>,
  ) {
    super(message);
  }
}

/** A request that rejects with SubTimeout after `ms`. */
function requestWithin(
  conn: WireClient,
  op: string,
  args: Record<string, unknown>,
  ms: number,
): Promise<Record<string, unknown>> {
  const pending = conn.request(op, args);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SubTimeout(`${op} unanswered after ${ms} ms`, pending)), ms);
    pending.then(
      (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export default async function reconnectStorm(task: StormTask): Promise<StormResult> {
  const rv = new Rendezvous(task.rendezvous);
  const chIndex = new Map(task.channels.map((c, i) => [c, i]));
  const clients: Client[] = task.clients.map((spec, i) => ({
    i,
    token: task.tokens[spec.user]!,
    addr: task.localAddresses.length ? task.localAddresses[i % task.localAddresses.length] : undefined,
    subs: spec.channels.map((ch) => ({ ch, last: -1, atDrop: -1, held: null })),
    conn: null,
    gen: 0,
    resuming: false,
    resumedAt: 0,
    lossy: false,
    duplicating: false,
  }));
  const stats = {
    connectFailures: 0,
    subTimeouts: 0,
    subLate: 0,
    subNeverAnswered: 0,
    subErrors: 0,
    serverCloses: 0,
    resyncs: 0,
    resyncSkipped: 0,
    replayed: 0,
    events: 0,
    duplicates: 0,
    gapLost: 0,
  };
  const examples: string[] = [];
  const note = (line: string) => {
    if (examples.length < 8) examples.push(`generator ${task.index}: ${line}`);
  };
  const replyLastSeq = new Array<number>(task.channels.length).fill(0);
  const arrivals = task.channels.map(() => [] as Array<number | null>);
  const bases = task.channels.map(() => Number.POSITIVE_INFINITY);
  const resumeHist = newHistogram();
  const connectHist = newHistogram();
  const subHist = newHistogram();
  let dropAt = 0;
  let dropped = false;
  let stopping = false;
  let resumedCount = 0;
  let lastResumedAt = 0;
  const probes: Array<Promise<void>> = [];

  /** Waits a while longer on a timed-out `sub` to tell a slow reply from none at all. */
  const probe = (c: Client, s: Sub, since: unknown, gen: number, err: SubTimeout) => {
    probes.push(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          stats.subNeverAnswered++;
          note(
            `client ${c.i} channel ${task.channels[s.ch]}: sub {sinceSeq: ${since}} never answered (connection #${gen}, waited ${(task.subTimeoutMs + task.probeMs) / 1000} s)`,
          );
          resolve();
        }, task.probeMs);
        err.pending.then(
          () => {
            clearTimeout(timer);
            stats.subLate++;
            resolve();
          },
          () => {
            clearTimeout(timer);
            resolve();
          },
        );
      }),
    );
  };

  /** Checks one event of a subscription against the last seq seen there. */
  const apply = (c: Client, s: Sub, seq: number, at: number, how: string) => {
    stats.events++;
    if (seq <= s.last) {
      stats.duplicates++;
      c.duplicating = true;
      note(`client ${c.i} channel ${task.channels[s.ch]}: seq ${seq} again after ${s.last} (${how})`);
      return;
    }
    if (seq > s.last + 1) {
      stats.gapLost += seq - s.last - 1;
      c.lossy = true;
      note(
        `client ${c.i} channel ${task.channels[s.ch]}: seq ${seq} after ${s.last}, ${seq - s.last - 1} missing (${how})`,
      );
    }
    s.last = seq;
    if (dropped) {
      const k = seq - bases[s.ch]!;
      if (k >= 0) arrivals[s.ch]![k] = at;
    }
  };

  const onEvent =
    (c: Client, gen: number) => (topic: string, _type: string, data: Record<string, unknown>) => {
      if (c.gen !== gen) return;
      const seq = data.seq;
      if (typeof seq !== "number") return; // ephemeral: typing, presence counts
      const ci = chIndex.get(topic.slice(3));
      if (ci === undefined) return;
      let s: Sub | undefined;
      for (const x of c.subs) if (x.ch === ci) s = x;
      if (!s) return;
      if (s.held) s.held.push([seq, wallNow()]);
      else apply(c, s, seq, wallNow(), `live, connection #${gen}`);
    };

  const onClose = (c: Client, gen: number) => (code: number) => {
    if (stopping || c.gen !== gen) return;
    c.conn = null;
    c.gen++;
    if (!dropped) return; // before the drop: the client resumes with everybody else
    stats.serverCloses++;
    note(`client ${c.i}: connection #${gen} closed by the server with ${code}; resuming again`);
    void resume(c, 0);
  };

  /** Opens a connection and subscribes every channel (from the last seq seen, if any). */
  const attach = async (c: Client): Promise<void> => {
    const t0 = performance.now();
    const conn = await connectWithin(task.wsUrl, c.token, c.addr, task.connectTimeoutMs);
    const t1 = performance.now();
    const gen = ++c.gen;
    c.conn = conn;
    conn.onEvent = onEvent(c, gen);
    conn.onClose = onClose(c, gen);
    for (const s of c.subs) s.held = [];
    try {
      await Promise.all(
        c.subs.map(async (s) => {
          const args: Record<string, unknown> = { channelId: task.channels[s.ch]! };
          if (s.last >= 0) args.sinceSeq = s.last;
          const r = await requestWithin(conn, "sub", args, task.subTimeoutMs).catch((err: unknown) => {
            if (err instanceof SubTimeout) probe(c, s, args.sinceSeq, gen, err);
            throw err;
          });
          if (c.gen !== gen) return;
          const held = s.held ?? [];
          s.held = null;
          const lastSeq = r.lastSeq as number;
          const resync = r.resync === true;
          if (s.last < 0 || resync) {
            // A first subscription starts at the reply (events up to `lastSeq` are not
            // sent); a resync skips to it (the client would reload from history).
            if (s.last >= 0) {
              stats.resyncs++;
              stats.resyncSkipped += Math.max(0, lastSeq - s.last);
            }
            s.last = lastSeq;
          }
          // The replay (events up to `lastSeq`, before the reply), then any live events
          // that came with it.
          for (const [seq, at] of held) {
            if (seq <= lastSeq) stats.replayed++;
            apply(c, s, seq, at, `${seq <= lastSeq ? "replayed" : "live"}, connection #${gen}`);
          }
          if (dropped && lastSeq > replyLastSeq[s.ch]!) replyLastSeq[s.ch] = lastSeq;
        }),
      );
      if (dropped) {
        connectHist.recordValue(Math.max(1, Math.round((t1 - t0) * 1000)));
        subHist.recordValue(Math.max(1, Math.round((performance.now() - t1) * 1000)));
      }
    } catch (err) {
      for (const s of c.subs) s.held = null;
      if (c.gen === gen) {
        c.gen++;
        c.conn = null;
        conn.onEvent = null;
        conn.onClose = null;
        // After a timeout the old connection stays open a while for the probes.
        if (err instanceof SubTimeout) setTimeout(() => conn.terminate(), task.probeMs + 200);
        else conn.terminate();
      }
      throw err;
    }
  };

  /** Reconnects and resubscribes until it works or the deadline passes. */
  const resume = async (c: Client, firstDelayMs: number): Promise<void> => {
    if (c.resuming) return;
    c.resuming = true;
    let attempt = 0;
    await sleep(firstDelayMs);
    while (!stopping && wallNow() < dropAt + task.resumeDeadlineMs) {
      try {
        await attach(c);
        if (c.resumedAt === 0) {
          c.resumedAt = wallNow();
          resumedCount++;
          lastResumedAt = Math.max(lastResumedAt, c.resumedAt);
          resumeHist.recordValue(Math.max(1, Math.round((c.resumedAt - dropAt) * 1000)));
        }
        break;
      } catch (err) {
        if (err instanceof SubTimeout) {
          stats.subTimeouts++;
          note(`client ${c.i}: ${err.message}; reconnecting`);
        } else if (err instanceof WireError) {
          stats.subErrors++;
          note(`client ${c.i}: sub failed: ${err.message}`);
        } else stats.connectFailures++;
        attempt++;
        await sleep(backoffDelay(attempt, task.jitter));
      }
    }
    c.resuming = false;
  };

  // Set-up: connect and subscribe everybody, a few at a time.
  const setupStart = performance.now();
  const setupDeadline = setupStart + task.setupTimeoutMs;
  let nextClient = 0;
  await Promise.all(
    Array.from({ length: Math.min(task.connectConcurrency, clients.length) }, async () => {
      while (nextClient < clients.length) {
        const c = clients[nextClient++]!;
        for (let attempt = 0; ; attempt++) {
          try {
            await attach(c);
            break;
          } catch (err) {
            if (performance.now() > setupDeadline || attempt >= 20) {
              throw new Error(`client ${c.i} could not connect and subscribe: ${String(err)}`);
            }
            await sleep(backoffDelay(attempt, task.jitter));
          }
        }
      }
    }),
  );
  const setupMs = Math.round(performance.now() - setupStart);
  rv.post(`ready-${task.index}`, { setupMs });

  // The drop: every connection at once, no close handshake.
  const go = await rv.wait<{ dropAt: number; downMs: number }>("go", 300_000);
  dropAt = go.dropAt;
  await sleep(dropAt - wallNow());
  for (const c of clients) {
    for (const s of c.subs) {
      s.atDrop = s.last;
      bases[s.ch] = Math.min(bases[s.ch]!, s.last + 1);
    }
  }
  dropped = true;
  for (const c of clients) {
    const conn = c.conn;
    c.conn = null;
    c.gen++;
    if (conn) {
      conn.onEvent = null;
      conn.onClose = null;
      conn.terminate();
    }
  }
  const dropMs = Math.round(wallNow() - dropAt);
  const resumes = clients.map((c) =>
    resume(c, dropAt + task.downMs + backoffDelay(0, task.jitter) - wallNow()),
  );
  await Promise.all(resumes);
  rv.post(`resumed-${task.index}`, { resumed: resumedCount, lastResumedAt });

  // Wait until every client has every event up to each channel's final seq.
  const final = await rv.wait<{ lastSeq: Record<string, number> }>("final", 300_000);
  const finalSeq = task.channels.map((c) => final.lastSeq[c] ?? 0);
  const settleUntil = performance.now() + task.settleTimeoutMs;
  const behind = () => clients.some((c) => c.subs.some((s) => s.last < finalSeq[s.ch]!));
  while (behind() && performance.now() < settleUntil) await sleep(25);
  await Promise.all(probes);
  stopping = true;
  let tailLost = 0;
  for (const c of clients) {
    for (const s of c.subs) {
      const missing = finalSeq[s.ch]! - Math.max(s.last, 0);
      if (missing > 0) {
        tailLost += missing;
        c.lossy = true;
        note(
          `client ${c.i} channel ${task.channels[s.ch]}: ends at seq ${s.last} (seen ${s.atDrop} at the drop), the channel at ${finalSeq[s.ch]}: ${missing} never arrived${c.resumedAt === 0 ? " (never resumed)" : ""}`,
        );
      }
    }
    if (c.conn) {
      c.conn.onEvent = null;
      c.conn.onClose = null;
      c.conn.terminate();
    }
  }
  return {
    index: task.index,
    clients: clients.length,
    subscriptions: clients.reduce((n, c) => n + c.subs.length, 0),
    setupMs,
    dropMs,
    resumed: resumedCount,
    lastResumedAt,
    resumeHistogram: encodeHistogram(resumeHist),
    connectHistogram: encodeHistogram(connectHist),
    subHistogram: encodeHistogram(subHist),
    ...stats,
    tailLost,
    lossyClients: clients.filter((c) => c.lossy).length,
    duplicatingClients: clients.filter((c) => c.duplicating).length,
    examples,
    replyLastSeq: Object.fromEntries(task.channels.map((c, i) => [c, replyLastSeq[i]!])),
    arrivals: Object.fromEntries(
      task.channels.map((c, i) => [
        c,
        { base: Number.isFinite(bases[i]!) ? bases[i]! : 0, at: Array.from(arrivals[i]!, (t) => t ?? null) },
      ]),
    ),
  };
}

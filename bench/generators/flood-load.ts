/**
 * Generator for S12, the flooding user: one user on many connections (from its own source
 * address, as another machine would be), each keeping `inFlightPerConnection` `msg.send`
 * requests outstanding from `startAt` to `stopAt` and sending the next as soon as any
 * answer comes, refusal or not: a hostile client that ignores `retryAfterMs`. A connection
 * that is closed, or whose upgrade is refused, is opened again after `reconnectDelayMs`,
 * until `stopAt`.
 */
import { WireClient, WireError } from "../lib/wire.js";

export interface FloodTask {
  wsUrl: string;
  token: string;
  /** Channels to send to, in turn. */
  channelIds: string[];
  connections: number;
  inFlightPerConnection: number;
  /** Source address of every connection (127.0.0.x on loopback). */
  localAddress: string;
  startAt: number;
  stopAt: number;
  reconnectDelayMs: number;
  textBytes: number;
}

export interface FloodResult {
  /** Upgrades the server accepted, the first ones included. */
  connects: number;
  /** Upgrades it refused. */
  refusedConnects: number;
  /** Connections the server closed while the flood ran. */
  closedByServer: number;
  acks: number;
  /** `rate_limited` answers. */
  rateLimited: number;
  /** Other failures (`unavailable` …, and requests lost with a closed connection). */
  otherErrors: number;
  elapsedMs: number;
  /** This process's CPU over the flood, in cores. */
  cores: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default async function floodLoad(task: FloodTask): Promise<FloodResult> {
  const text = "f".repeat(task.textBytes);
  const result = {
    connects: 0,
    refusedConnects: 0,
    closedByServer: 0,
    acks: 0,
    rateLimited: 0,
    otherErrors: 0,
  };
  let seq = 0;
  const connect = async (): Promise<WireClient | null> => {
    while (Date.now() < task.stopAt) {
      try {
        const client = await WireClient.connect(task.wsUrl, task.token, task.localAddress);
        result.connects++;
        return client;
      } catch {
        result.refusedConnects++;
        await sleep(task.reconnectDelayMs);
      }
    }
    return null;
  };
  /** One connection slot: flood on it until the end, opening it again when it is closed. */
  const slot = async (first: WireClient | null) => {
    let client = first;
    while (Date.now() < task.stopAt) {
      if (!client) {
        client = await connect();
        if (!client) return;
      }
      const current = client;
      let closed = false;
      current.onClose = () => {
        closed = true;
      };
      await Promise.all(
        Array.from({ length: task.inFlightPerConnection }, async () => {
          while (Date.now() < task.stopAt && !closed) {
            try {
              await current.requestAck("msg.send", {
                channelId: task.channelIds[seq % task.channelIds.length]!,
                text,
                clientMsgId: `flood${process.pid}-${seq++}`,
              });
              result.acks++;
            } catch (err) {
              if (err instanceof WireError && err.code === "rate_limited") result.rateLimited++;
              else result.otherErrors++;
            }
          }
        }),
      );
      if (closed && Date.now() < task.stopAt) {
        result.closedByServer++;
        client = null;
        await sleep(task.reconnectDelayMs);
      } else current.close();
    }
  };
  // The first connections open before the start, as a client that was already there.
  const first = await Promise.all(
    Array.from({ length: task.connections }, () =>
      WireClient.connect(task.wsUrl, task.token, task.localAddress).then(
        (c) => {
          result.connects++;
          return c;
        },
        () => {
          result.refusedConnects++;
          return null;
        },
      ),
    ),
  );
  await sleep(task.startAt - Date.now());
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(first.map((c) => slot(c)));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { ...result, elapsedMs, cores: (cpu.user + cpu.system) / 1000 / elapsedMs };
}

/**
 * S4 idle-connection generator (a long-lived process, see bench/lib/gen-session.ts):
 * opens many authenticated, subscribed connections to one system, keeps them idle (it
 * answers pings, and Socket.IO's), and drops them on command. One process stays well below
 * the open-file limit; the scenario runs several.
 */
import { type Endpoint, FanConn } from "../lib/fanout-proto.js";
import { serveCommands } from "../lib/gen-session.js";

export interface OpenCmd {
  kind: "open";
  endpoint: Endpoint;
  count: number;
  /** Connection i uses tokens[i % n] (Colink), channels[i % n], localAddresses[i % n]. */
  tokens: string[];
  channels: string[];
  localAddresses: string[];
  /** Handshakes in flight at once. */
  concurrency: number;
}

export interface OpenResult {
  opened: number;
  failed: number;
  firstError: string;
  ms: number;
  /** Connections the server closed while the others were still opening. */
  closedEarly: number;
}

let conns: FanConn[] = [];
let closedEarly = 0;

async function open(cmd: OpenCmd): Promise<OpenResult> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError = "";
  closedEarly = 0;
  const opened: FanConn[] = [];
  await Promise.all(
    Array.from({ length: Math.min(cmd.concurrency, cmd.count) }, async () => {
      while (next < cmd.count) {
        const i = next++;
        try {
          const token = cmd.tokens.length > 0 ? cmd.tokens[i % cmd.tokens.length] : undefined;
          const localAddress =
            cmd.localAddresses.length > 0 ? cmd.localAddresses[i % cmd.localAddresses.length] : undefined;
          const conn = await FanConn.open(cmd.endpoint, {
            ...(token ? { token } : {}),
            ...(localAddress ? { localAddress } : {}),
            timeoutMs: 60_000,
          });
          conn.onClose = () => closedEarly++;
          await conn.subscribe([cmd.channels[i % cmd.channels.length]!]);
          opened.push(conn);
        } catch (err) {
          failed++;
          firstError ||= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  conns.push(...opened);
  return { opened: opened.length, failed, firstError, ms: performance.now() - started, closedEarly };
}

/** Drops every connection (no close handshake: the server may be gone already). */
async function drop(): Promise<{ dropped: number }> {
  const n = conns.length;
  for (const c of conns) {
    c.onClose = null;
    c.ws.destroy();
  }
  conns = [];
  return { dropped: n };
}

serveCommands(async (cmd) => {
  switch (cmd.kind) {
    case "open":
      return open(cmd as unknown as OpenCmd);
    case "drop":
      return drop();
    case "count":
      return { open: conns.filter((c) => !c.closed).length };
    default:
      throw new Error(`unknown command ${cmd.kind}`);
  }
});

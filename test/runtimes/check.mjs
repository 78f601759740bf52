/**
 * The end-to-end check of `npm run test:runtimes`, run by the Node under test inside the
 * Debian 13 root, in a copy of the project with its production dependencies and `dist/`.
 * Plain JavaScript, so that it needs nothing but that Node: it uses Node's own `fetch` and
 * `WebSocket`, `@msgpack/msgpack` for the raw frames and the built SDK.
 *
 * It starts Colink (embedded PGlite, a fresh data dir, a free loopback port), gets a dev
 * token, connects, creates a channel, subscribes, sends, and sees `message.created`; then
 * kills the server with SIGKILL, starts it again on the same data dir, and checks that a
 * `sub` with `sinceSeq` replays exactly the events missed, in order and once, and that the
 * SDK's own subscription resumed across the restart. Prints a line per step, writes
 * `check-result.json` next to itself, and exits 1 on the first step that fails.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, encode } from "@msgpack/msgpack";
import { ColinkClient } from "./dist/client/index.js";

const waitMs = 15_000;
const startMs = 90_000;

/** The facts reported for this runtime. */
const result = {
  node: process.version,
  glibc: process.report.getReport().header.glibcVersionRuntime ?? null,
  debian: readFileSync("/etc/debian_version", "utf8").trim(),
  uws: null,
  steps: [],
  ok: false,
};

function log(line) {
  console.log(`[check] ${line}`);
}

/** A port that was free a moment ago on the loopback. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `test` until it returns something truthy, or fails with `what` after `ms`. */
async function until(what, test, ms = waitMs) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = test();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** A Colink process on `port` and `dataDir`, with its output kept (and echoed). */
class Server {
  static async start(port, dataDir) {
    const proc = spawn(process.execPath, ["dist/app/main.js"], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        COLINK_HOST: "127.0.0.1",
        COLINK_PORT: String(port),
        COLINK_DATA_DIR: dataDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const server = new Server(proc);
    await until(
      "the server's start line",
      () => {
        if (server.exit) throw new Error(`the server exited (${server.exit}) before listening`);
        return server.lines.some((l) => l.includes("colink listening on"));
      },
      startMs,
    );
    return server;
  }

  constructor(proc) {
    this.proc = proc;
    this.lines = [];
    this.exit = null;
    for (const stream of [proc.stdout, proc.stderr]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop();
        for (const line of parts) {
          this.lines.push(line);
          console.log(`[server] ${line}`);
        }
      });
    }
    proc.on("exit", (code, signal) => {
      this.exit = signal ?? `code ${code}`;
    });
  }

  /** The uWS package the server says it loaded, if it says. */
  uwsBuild() {
    const text = this.lines.join("\n");
    const m = /(@btc-vision\/uwebsockets\.js|@trufflesuite\/uws-js-unofficial)@[0-9][\w.+-]*/.exec(text);
    return m ? m[0] : null;
  }

  async kill(signal) {
    if (!this.exit) this.proc.kill(signal);
    await until(`the server to exit on ${signal}`, () => this.exit);
    return this.exit;
  }
}

/** A raw client: one WebSocket, MessagePack frames, every frame received kept in order. */
class Raw {
  static open(url, token) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}?access_token=${encodeURIComponent(token)}`);
      ws.binaryType = "arraybuffer";
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`the WebSocket did not open within ${waitMs} ms`));
      }, waitMs);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(new Raw(ws));
      });
      ws.addEventListener("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`the WebSocket failed to open: ${e.message ?? e.error?.message ?? e.type}`));
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.closed = null;
    this.error = null;
    this.nextId = 1;
    ws.addEventListener("message", (e) => this.frames.push(decode(new Uint8Array(e.data))));
    ws.addEventListener("error", (e) => {
      this.error = e.message ?? e.error?.message ?? e.type;
    });
    ws.addEventListener("close", (e) => {
      const error = this.error ? `, error "${this.error}"` : "";
      this.closed = `${e.code}${e.reason ? ` "${e.reason}"` : ""}${error}, ${this.frames.length} frames received`;
    });
  }

  /** Sends a request; resolves with its result and the number of frames received before it. */
  async request(op, args) {
    const id = this.nextId++;
    this.ws.send(encode([0, id, op, args]));
    const at = await until(`the reply to ${op}`, () => {
      if (this.closed) throw new Error(`the connection closed (${this.closed}) before the reply to ${op}`);
      const i = this.frames.findIndex((f) => (f[0] === 1 || f[0] === 2) && f[1] === id);
      return i >= 0 ? i + 1 : 0;
    });
    const [kind, , body] = this.frames[at - 1];
    if (kind === 2) throw new Error(`${op} failed: ${body.code} ${body.message}`);
    return { result: body, before: at - 1 };
  }

  /** `[seq, type]` of the channel's events, among the first `upTo` frames (all by default). */
  events(channelId, upTo = this.frames.length) {
    return this.frames
      .slice(0, upTo)
      .filter((f) => f[0] === 3 && f[1] === `ch:${channelId}`)
      .map((f) => [f[3].seq, f[2]]);
  }

  close() {
    this.ws.close();
  }
}

/** Runs one step and logs it; `describe` turns its value into the line's detail. */
async function step(name, fn, describe = () => "") {
  const t0 = performance.now();
  try {
    const value = await fn();
    const ms = Math.round(performance.now() - t0);
    const detail = describe(value);
    result.steps.push({ name, ok: true, ms });
    log(`ok   ${name} (${ms} ms)${detail ? `: ${detail}` : ""}`);
    return value;
  } catch (err) {
    const ms = Math.round(performance.now() - t0);
    result.steps.push({ name, ok: false, ms, error: err.message });
    log(`FAIL ${name} (${ms} ms): ${err.message}`);
    throw err;
  }
}

async function closeAll(clients) {
  for (const c of clients.splice(0)) {
    if (c instanceof Raw) c.close();
    else await c.close().catch(() => {});
  }
}

async function main() {
  log(`Node ${result.node}, glibc ${result.glibc}, Debian ${result.debian}`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "colink-runtimes-"));
  const base = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  let server = null;
  let restartedAt = 0;
  const clients = [];
  try {
    await step(
      "server starts",
      async () => {
        server = await Server.start(port, dataDir);
        result.uws = server.uwsBuild();
      },
      () => `port ${port}, uWS ${result.uws ?? "(the server did not say which build)"}`,
    );

    const token = await step(
      "dev token",
      async () => {
        const res = await fetch(`${base}/auth/dev/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "runtimes" }),
        });
        const body = await res.json();
        if (res.status !== 200 || typeof body.accessToken !== "string") {
          throw new Error(`POST /auth/dev/token answered ${res.status} ${JSON.stringify(body)}`);
        }
        return body.accessToken;
      },
      (t) => `${t.length} characters`,
    );

    const a = await step("WebSocket connects", () => Raw.open(wsUrl, token));
    clients.push(a);

    const channelId = await step(
      "ch.create",
      async () => {
        const { result: r } = await a.request("ch.create", { name: "runtimes", kind: "public" });
        same(r.channel.lastSeq, 2, "the new channel's lastSeq");
        return r.channel.id;
      },
      (id) => id,
    );

    await step("sub (sinceSeq 0)", async () => {
      const { result: r, before } = await a.request("sub", { channelId, sinceSeq: 0 });
      same(r.lastSeq, 2, "sub's lastSeq");
      same(
        a.events(channelId, before),
        [
          [1, "channel.created"],
          [2, "member.joined"],
        ],
        "the events replayed before sub's reply",
      );
    });

    const sdkSeen = [];
    // What happened to the SDK's connection, with ms since the restart began.
    const sdkLog = [];
    const at = () => (restartedAt ? `+${Date.now() - restartedAt} ms` : "before");
    const sdk = new ColinkClient({ url: wsUrl, token, reconnect: { minDelayMs: 100, maxDelayMs: 1000 } });
    sdk.on("error", () => {});
    sdk.on("open", () => sdkLog.push(`open ${at()}`));
    sdk.on("close", (code) => sdkLog.push(`close ${code} ${at()}`));
    clients.push(sdk);
    await step("SDK connects and subscribes (global WebSocket)", async () => {
      await sdk.connect();
      await sdk.subscribe(channelId, (type, data) => sdkSeen.push([data.seq, type]), { sinceSeq: 0 });
      same(
        sdkSeen.map(([seq]) => seq),
        [1, 2],
        "the SDK's replayed seqs",
      );
    });

    await step("msg.send, message.created arrives", async () => {
      const { result: r } = await a.request("msg.send", {
        channelId,
        text: "before the kill",
        clientMsgId: "runtimes-1",
      });
      same(r.message.seq, 3, "the message's seq");
      await until("message.created seq 3 on the raw connection", () =>
        a.events(channelId).some(([seq, type]) => seq === 3 && type === "message.created"),
      );
      await until("message.created seq 3 in the SDK", () => sdkSeen.some(([seq]) => seq === 3));
    });

    await step(
      "kill -9, restart on the same data dir",
      async () => {
        const how = await server.kill("SIGKILL");
        await until("the raw connection to close", () => a.closed);
        restartedAt = Date.now();
        server = await Server.start(port, dataDir);
        return `killed (${how}), the raw connection closed with ${a.closed}, restarted in ${Date.now() - restartedAt} ms`;
      },
      (d) => d,
    );

    const b = await step("after the restart: connect, msg.send", async () => {
      const b = await Raw.open(wsUrl, token);
      clients.push(b);
      const again = await b.request("msg.send", { channelId, text: "repeat", clientMsgId: "runtimes-1" });
      same(
        [again.result.message.seq, again.result.message.text],
        [3, "before the kill"],
        "the acked message",
      );
      const { result: r } = await b.request("msg.send", {
        channelId,
        text: "while away",
        clientMsgId: "runtimes-2",
      });
      same(r.message.seq, 4, "the message's seq");
      return b;
    });

    await step("resume: sub sinceSeq 3 replays exactly seq 4, then live seq 5 once", async () => {
      const c = await Raw.open(wsUrl, token);
      clients.push(c);
      const { result: r, before } = await c.request("sub", { channelId, sinceSeq: 3 });
      same(r.lastSeq, 4, "sub's lastSeq");
      same(r.resync ?? false, false, "sub's resync");
      same(c.events(channelId, before), [[4, "message.created"]], "the events replayed before sub's reply");
      await b.request("msg.send", { channelId, text: "live", clientMsgId: "runtimes-3" });
      await until("message.created seq 5", () => c.events(channelId).some(([seq]) => seq === 5));
      await sleep(300);
      same(
        c.events(channelId),
        [
          [4, "message.created"],
          [5, "message.created"],
        ],
        "every channel event on the resumed connection",
      );
    });

    await step(
      "SDK reconnected and resumed on its own",
      async () => {
        await until("the SDK to deliver seq 5", () => sdkSeen.some(([seq]) => seq === 5));
        const opens = sdkLog.filter((e) => e.startsWith("open"));
        if (opens.length < 2) throw new Error(`the SDK did not reconnect: ${sdkLog.join(", ")}`);
        same(
          sdkSeen.map(([seq]) => seq),
          [1, 2, 3, 4, 5],
          "the seqs the SDK delivered",
        );
        return sdkLog;
      },
      (events) => events.join(", "),
    );

    await step("SIGTERM drains and exits 0", async () => {
      await closeAll(clients);
      const how = await server.kill("SIGTERM");
      same(how, "code 0", "the exit");
    });
    result.ok = true;
  } catch (err) {
    if (server) {
      log(`the server is ${server.exit ? `gone (${server.exit})` : "still running"}; its last lines:`);
      for (const line of server.lines.slice(-20)) log(`  ${line}`);
    }
    throw err;
  } finally {
    await closeAll(clients);
    if (server && !server.exit) await server.kill("SIGKILL").catch(() => {});
    writeFileSync("check-result.json", `${JSON.stringify(result, null, 2)}\n`);
  }
}

const overall = setTimeout(() => {
  log("FAIL the whole check took more than 5 minutes");
  process.exit(1);
}, 300_000);
main().then(
  () => {
    clearTimeout(overall);
    log("all steps passed");
    process.exit(0);
  },
  () => {
    clearTimeout(overall);
    process.exit(1);
  },
);

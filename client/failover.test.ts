/**
 * Failover between several server URLs, driven through a fake WebSocket: no server runs,
 * the test plays the nodes (opens, drops and answers the sockets the client makes).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DecodedRequest, decodeRequest, eventFrame, okFrame } from "../core/protocol.js";
import { ColinkClient } from "./colink-client.js";
import type { SocketEvents, WebSocketLike } from "./socket.js";

/** Every socket the client made in the current test, in order. */
let sockets: FakeSocket[] = [];

class FakeSocket implements WebSocketLike {
  binaryType = "blob";
  readyState = 0;
  /** The requests the client sent on this socket. */
  readonly sent: DecodedRequest[] = [];
  private readonly listeners = new Map<keyof SocketEvents, ((event: unknown) => void)[]>();

  constructor(readonly url: string) {
    sockets.push(this);
  }

  addEventListener<K extends keyof SocketEvents>(type: K, listener: (event: SocketEvents[K]) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener as (event: unknown) => void);
    this.listeners.set(type, list);
  }

  send(data: Uint8Array): void {
    this.sent.push(decodeRequest(data));
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.fire("close", { code, reason }));
  }

  /** The server side: accept the handshake. */
  accept(): void {
    this.readyState = 1;
    this.fire("open", {});
  }

  /** The server side: the node died (or refused the handshake) under the client. */
  drop(): void {
    this.readyState = 3;
    this.fire("close", { code: 1006, reason: "" });
  }

  reply(id: number, result: Record<string, unknown>): void {
    this.fire("message", { data: okFrame(id, result) });
  }

  event(topic: string, type: string, data: Record<string, unknown>): void {
    this.fire("message", { data: eventFrame(topic, type, data) });
  }

  /** The last request sent with `op`. */
  lastRequest(op: string): { id: number; args: Record<string, unknown> } {
    const found = this.sent.filter((r) => r.ok && r.op === op).at(-1);
    if (!found?.ok) throw new Error(`no ${op} request sent`);
    return found;
  }

  private fire<K extends keyof SocketEvents>(type: K, event: SocketEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

const urls = ["ws://node-a:8080/ws", "ws://node-b:8080/ws", "ws://node-c:8080/ws"];

function newClient(url: string | string[] = urls): ColinkClient {
  return new ColinkClient({
    url,
    token: "tok",
    WebSocket: FakeSocket,
    reconnect: { minDelayMs: 0, maxDelayMs: 0 }, // reconnect at once
  });
}

/** Waits for the client to make its `n`th socket and returns it. */
async function socketNumber(n: number): Promise<FakeSocket> {
  await vi.waitFor(() => expect(sockets.length).toBeGreaterThanOrEqual(n));
  return sockets[n - 1]!;
}

function hostOf(socket: FakeSocket): string {
  return new URL(socket.url).host;
}

describe("ColinkClient with several server URLs", () => {
  let client: ColinkClient | undefined;

  beforeEach(() => {
    sockets = [];
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  it("connects to the first URL, then moves round robin on each failed or dropped connection", async () => {
    client = newClient();
    const opened = client.connect();
    const first = await socketNumber(1);
    expect(hostOf(first)).toBe("node-a:8080");
    expect(new URL(first.url).searchParams.get("access_token")).toBe("tok");
    first.accept();
    await opened;

    first.drop(); // node a dies
    const second = await socketNumber(2);
    expect(hostOf(second)).toBe("node-b:8080");
    second.drop(); // node b refuses too: the attempt fails before opening
    const third = await socketNumber(3);
    expect(hostOf(third)).toBe("node-c:8080");
    third.drop();
    const fourth = await socketNumber(4);
    expect(hostOf(fourth)).toBe("node-a:8080"); // wraps around
    fourth.accept();
    await vi.waitFor(() => expect(client?.state).toBe("open"));
    expect(client.serverUrl).toBe(urls[0]);
  });

  it("resumes its subscriptions on the survivor from the last delivered seq", async () => {
    client = newClient();
    const opened = client.connect();
    const a = await socketNumber(1);
    a.accept();
    await opened;
    const seen: number[] = [];
    const subscribed = client.subscribe("c1", (_type, data) => seen.push(data.seq as number));
    a.reply(a.lastRequest("sub").id, { lastSeq: 0 });
    await subscribed;
    for (const seq of [1, 2, 3]) a.event("ch:c1", "msg.new", { seq });

    a.drop();
    const b = await socketNumber(2);
    expect(hostOf(b)).toBe("node-b:8080");
    b.accept();
    const resub = b.lastRequest("sub");
    expect(resub.args).toEqual({ channelId: "c1", sinceSeq: 3 });
    b.event("ch:c1", "msg.new", { seq: 4 }); // held until the sub reply
    b.reply(resub.id, { lastSeq: 5 });
    b.event("ch:c1", "msg.new", { seq: 3 }); // a duplicate of the replay from node a
    b.event("ch:c1", "msg.new", { seq: 5 });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(client.lastSeqOf("c1")).toBe(5);
  });

  it("after a failed first connect(), the next connect() tries the next URL", async () => {
    client = newClient();
    const first = client.connect();
    (await socketNumber(1)).drop();
    await expect(first).rejects.toThrow(/connection closed/);
    expect(client.state).toBe("closed");

    const second = client.connect();
    const b = await socketNumber(2);
    expect(hostOf(b)).toBe("node-b:8080");
    b.accept();
    await second;
  });

  it("stays on the same URL after close() and connect()", async () => {
    client = newClient();
    const first = client.connect();
    (await socketNumber(1)).accept();
    await first;
    await client.close();

    const again = client.connect();
    const next = await socketNumber(2);
    expect(hostOf(next)).toBe("node-a:8080");
    next.accept();
    await again;
  });

  it("keeps reconnecting to the one URL when given a single string", async () => {
    client = newClient("ws://solo:8080/ws");
    const opened = client.connect();
    (await socketNumber(1)).accept();
    await opened;
    sockets[0]!.drop();
    expect(hostOf(await socketNumber(2))).toBe("solo:8080");
  });

  it("rejects an empty list or a malformed URL at construction", () => {
    expect(() => newClient([])).toThrow(/no server URL/);
    expect(() => newClient([urls[0]!, "node-b/ws"])).toThrow(/invalid server URL: "node-b\/ws"/);
  });
});

/**
 * Peer: a plain `ws` server with a JSON broadcast loop, what a typical project writes.
 *
 * JSON text frames: `{t:"sub",rooms:[…]}` joins rooms (a Set of sockets per room;
 * answered `{t:"ok"}`); `{t:"pub",room,msg}` is parsed, re-serialised once and sent to
 * every open socket of the room. Prints `listening on http://127.0.0.1:PORT`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

const rooms = new Map<string, Set<WebSocket>>();
const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 128 * 1024 });

wss.on("connection", (ws) => {
  const joined = new Set<string>();
  ws.on("message", (data) => {
    let msg: { t?: string; rooms?: string[]; room?: string; msg?: unknown };
    try {
      msg = JSON.parse(data.toString());
    } catch {
      ws.close(1003, "bad json");
      return;
    }
    if (msg.t === "pub" && typeof msg.room === "string") {
      const out = JSON.stringify({ t: "msg", room: msg.room, msg: msg.msg });
      for (const peer of rooms.get(msg.room) ?? []) {
        if (peer.readyState === peer.OPEN) peer.send(out);
      }
    } else if (msg.t === "sub" && Array.isArray(msg.rooms)) {
      for (const room of msg.rooms) {
        let set = rooms.get(room);
        if (!set) {
          set = new Set();
          rooms.set(room, set);
        }
        set.add(ws);
        joined.add(room);
      }
      ws.send('{"t":"ok"}');
    }
  });
  ws.on("close", () => {
    for (const room of joined) {
      const set = rooms.get(room);
      set?.delete(ws);
      if (set?.size === 0) rooms.delete(room);
    }
  });
});

server.listen(Number(process.env.PEER_PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

/**
 * Peer: a Socket.IO 4 room broadcast chat server, the usual Node choice (default
 * settings, WebSocket transport only, default `ws` engine).
 *
 * Events: `join(rooms, ack)` joins rooms; `pub(room, msg)` broadcasts `message` to the
 * room with `io.to(room).emit`. Prints `listening on http://127.0.0.1:PORT`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";

const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"], serveClient: false });

io.on("connection", (socket) => {
  socket.on("join", (rooms: string[], ack?: () => void) => {
    socket.join(rooms);
    ack?.();
  });
  socket.on("pub", (room: string, msg: unknown) => {
    io.to(room).emit("message", msg);
  });
});

httpServer.listen(Number(process.env.PEER_PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`);
});

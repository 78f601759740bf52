/**
 * Peer: bare uWebSockets.js pub/sub, no logic. The transport ceiling on this machine.
 *
 * Binary frames: `s<topic>,<topic>…` subscribes (answered "k"); `p<topic>\n<payload>`
 * publishes the payload as it is to the topic's subscribers (app.publish). Prints
 * `listening on http://127.0.0.1:PORT` (PEER_PORT, default any free port).
 * uWS defaults otherwise, as a bare server would have them: no compression, 64 KiB of
 * backpressure per socket (a slow subscriber is skipped, not buffered for), plus Colink's
 * pings and 60 s idle timeout.
 */
import { loadUws } from "../../transport/uws.js";

const uWS = loadUws().uws;
const app = uWS.App();
const newline = 0x0a;

app.ws("/*", {
  compression: 0,
  maxPayloadLength: 128 * 1024,
  idleTimeout: 60,
  sendPingsAutomatically: true,
  message: (ws, data) => {
    const bytes = new Uint8Array(data);
    if (bytes[0] === 0x70 /* p */) {
      const nl = bytes.indexOf(newline);
      const topic = Buffer.from(data, 1, nl - 1).toString("latin1");
      app.publish(topic, bytes.subarray(nl + 1), true, false);
    } else if (bytes[0] === 0x73 /* s */) {
      for (const topic of Buffer.from(data, 1).toString("latin1").split(",")) ws.subscribe(topic);
      ws.send("k", false, false);
    }
  },
});

app.listen("127.0.0.1", Number(process.env.PEER_PORT ?? 0), (token) => {
  if (!token) {
    console.error("uws-pubsub: cannot listen");
    process.exit(1);
  }
  console.log(`listening on http://127.0.0.1:${uWS.us_socket_local_port(token)}`);
});

/**
 * The server's log: JSON lines on stdout, each with a numeric `level` and a `module`,
 * at the level COLINK_LOG_LEVEL sets.
 */
import { describe, expect, it } from "vitest";
import { connectAs, startServer, until } from "./harness.js";

/** The JSON lines of a server's output (anything else is left out). */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("logging", () => {
  it("writes JSON lines with a level at COLINK_LOG_LEVEL=debug, the start line among them", async () => {
    const server = await startServer("pglite", { COLINK_LOG_LEVEL: "debug" });
    try {
      const lines = jsonLines(server.output());
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line.level, JSON.stringify(line)).toEqual(expect.any(Number));
        expect(line.msg, JSON.stringify(line)).toEqual(expect.any(String));
      }
      const start = lines.find((l) => String(l.msg).startsWith("colink listening on"));
      expect(start).toMatchObject({ level: 30, module: "main", port: server.port, uws: expect.any(String) });
    } finally {
      await server.cleanup();
    }
  });

  it.each([["0"], ["1"]])(
    "at debug, one call id follows a msg.send from the gateway to its commit (W=%s)",
    async (workers) => {
      const server = await startServer("pglite", { COLINK_LOG_LEVEL: "debug", COLINK_WORKERS: workers });
      const { client } = await connectAs(server, "logged");
      try {
        const { channel } = await client.request("ch.create", { name: "logged", kind: "public" });
        await client.send(channel.id, "follow me");
        const sendLine = () =>
          jsonLines(server.output()).find((l) => l.msg === "request" && l.op === "msg.send");
        await until(() => sendLine() !== undefined, 5000, "the request line");
        const callId = sendLine()!.callId;
        expect(callId).toEqual(expect.any(Number));
        await until(
          () =>
            jsonLines(server.output()).some(
              (l) => l.msg === "store commit" && (l.callIds as number[]).includes(callId as number),
            ),
          5000,
          "the commit line with that call id",
        );
      } finally {
        await client.close();
        await server.cleanup();
      }
    },
  );
});

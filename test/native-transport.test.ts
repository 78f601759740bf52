/**
 * Without a native uWS build the server refuses to start, with one paragraph saying why,
 * instead of starting on a JavaScript stand-in whose WebSockets never open.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testOnlyBinaryVariable } from "../transport/uws.js";
import { startFailure, startServer } from "./harness.js";

describe("native transport", () => {
  it("a server whose uWS binary cannot load exits 1 with the runtime, the build tried, its error and what is supported", async () => {
    const notABinary = join(tmpdir(), `colink-not-uws-${process.pid}.node`);
    writeFileSync(notABinary, "this is not a shared object\n");
    const { code, lines } = await startFailure("pglite", { [testOnlyBinaryVariable]: notABinary });
    expect(code).toBe(1);
    expect(lines, lines.join("\n")).toHaveLength(1);
    const paragraph = lines[0]!;
    expect(paragraph).toContain("colink: failed to start: no native uWebSockets.js build loads");
    expect(paragraph).toContain(`Node ${process.version} (ABI ${process.versions.modules})`);
    expect(paragraph).toContain(`${process.platform}-${process.arch}`);
    expect(paragraph).toMatch(/glibc (\d+\.\d+|none)/);
    expect(paragraph).toMatch(/Tried @[\w.-]+\/[\w.-]+@[\w.-]+ \(/);
    expect(paragraph).toContain(notABinary);
    expect(paragraph).toContain("Supported: Node 20");
  });

  it("a server that starts says which build it loaded", async () => {
    const server = await startServer("pglite");
    try {
      expect(server.output()).toMatch(/uws=@[\w.-]+\/[\w.-]+@\S+ node=v\d+/);
    } finally {
      await server.cleanup();
    }
  });
});

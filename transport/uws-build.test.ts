import { describe, expect, it } from "vitest";
import { chooseUwsBuild, type Runtime } from "./uws-build.js";

const linux = (abi: number, glibc: string | null, arch = "x64"): Runtime => ({
  abi,
  platform: "linux",
  arch,
  glibc,
});

/** The package chosen, or "refused: <reason>". */
function outcome(runtime: Runtime): string {
  const choice = chooseUwsBuild(runtime);
  return "build" in choice ? `${choice.build.package} ${choice.build.binary}` : `refused: ${choice.refusal}`;
}

describe("chooseUwsBuild: Node ABI x glibc x platform", () => {
  it.each([
    // Node 20 (ABI 115): the trufflesuite build, whatever the glibc.
    [linux(115, "2.36"), "@trufflesuite/uws-js-unofficial ../binaries/uws_linux_x64_115.node"],
    [linux(115, "2.41"), "@trufflesuite/uws-js-unofficial ../binaries/uws_linux_x64_115.node"],
    [linux(115, "2.36", "arm64"), "@trufflesuite/uws-js-unofficial ../binaries/uws_linux_arm64_115.node"],
    // Node 22, 24, 25: the btc-vision build, on glibc 2.38 and later only.
    [linux(127, "2.38"), "@btc-vision/uwebsockets.js ./uws_linux_x64_127.node"],
    [linux(137, "2.41"), "@btc-vision/uwebsockets.js ./uws_linux_x64_137.node"],
    [linux(141, "2.39", "arm64"), "@btc-vision/uwebsockets.js ./uws_linux_arm64_141.node"],
    [linux(137, "3.0"), "@btc-vision/uwebsockets.js ./uws_linux_x64_137.node"],
    [
      linux(137, "2.36"),
      "refused: @btc-vision/uwebsockets.js's build for Node 24 needs glibc 2.38 or later; this system has 2.36",
    ],
    [
      linux(127, "2.37"),
      "refused: @btc-vision/uwebsockets.js's build for Node 22 needs glibc 2.38 or later; this system has 2.37",
    ],
    [linux(137, null), "refused: @btc-vision/uwebsockets.js needs glibc; this Linux has none (musl?)"],
    [linux(115, null), "refused: @trufflesuite/uws-js-unofficial needs glibc; this Linux has none (musl?)"],
    // No glibc question off Linux.
    [
      { abi: 137, platform: "darwin", arch: "arm64", glibc: null },
      "@btc-vision/uwebsockets.js ./uws_darwin_arm64_137.node",
    ],
    [
      { abi: 115, platform: "win32", arch: "x64", glibc: null },
      "@trufflesuite/uws-js-unofficial ../binaries/uws_win32_x64_115.node",
    ],
    // Runtimes nothing is built for.
    [linux(108, "2.36"), "refused: no uWebSockets.js build exists for Node ABI 108"],
    [linux(147, "2.41"), "refused: no uWebSockets.js build exists for Node ABI 147"],
    [linux(137, "2.41", "arm"), "refused: @btc-vision/uwebsockets.js has no build for Node 24 on linux-arm"],
    [
      { abi: 137, platform: "freebsd", arch: "x64", glibc: null },
      "refused: @btc-vision/uwebsockets.js has no build for Node 24 on freebsd-x64",
    ],
  ])("%o → %s", (runtime, expected) => {
    expect(outcome(runtime)).toBe(expected);
  });

  it("names binaries that the installed packages really ship", async () => {
    const { existsSync } = await import("node:fs");
    const { createRequire } = await import("node:module");
    const { dirname, join } = await import("node:path");
    const require = createRequire(import.meta.url);
    for (const runtime of [linux(115, "2.36"), linux(127, "2.38"), linux(137, "2.38"), linux(141, "2.38")]) {
      const choice = chooseUwsBuild(runtime);
      if (!("build" in choice)) throw new Error(choice.refusal);
      const file = join(dirname(require.resolve(choice.build.package)), choice.build.binary);
      expect(existsSync(file), file).toBe(true);
    }
  });
});

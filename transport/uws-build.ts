/**
 * Which native uWebSockets.js build serves a runtime: a pure decision over the Node ABI,
 * the platform and the C library, so that it can be tested without loading a binary.
 * No package is published with binaries for every Node still in use, so two are
 * installed, and a runtime neither covers is refused (never a JavaScript stand-in).
 */

/** The facts about the running process that decide the build. */
export interface Runtime {
  /** `process.versions.modules`: the native-module ABI (115 = Node 20, 137 = Node 24). */
  abi: number;
  /** `process.platform`. */
  platform: string;
  /** `process.arch`. */
  arch: string;
  /** The glibc version (`"2.36"`) on Linux, or null where there is none (musl) or no Linux. */
  glibc: string | null;
}

/** A build to load: the package, its binary's file name, and where it lies in the package. */
export interface UwsBuild {
  package: string;
  /** The binary's path relative to the directory of the package's main file. */
  binary: string;
}

/** The outcome: a build, or the reason no build fits. */
export type UwsChoice = { build: UwsBuild } | { refusal: string };

/** A package and the runtimes its binaries cover. */
interface Offer {
  package: string;
  /** Node ABIs with binaries, and the Node major each one is. */
  abis: Record<number, number>;
  /** `platform-arch` pairs with binaries. */
  targets: readonly string[];
  /** Oldest glibc its Linux binaries load on, or null if not known to need a recent one. */
  minGlibc: string | null;
  /** Binary directory relative to the package's main file. */
  dir: string;
}

const offers: readonly Offer[] = [
  {
    // Node 22 and later: the upstream build, republished. Its Linux binaries use
    // `__isoc23_strtol` and friends, so they need glibc 2.38 (Debian 13, Ubuntu 24.04).
    package: "@btc-vision/uwebsockets.js",
    abis: { 127: 22, 137: 24, 141: 25 },
    targets: ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64"],
    minGlibc: "2.38",
    dir: ".",
  },
  {
    // Node 20: the last release with its binaries (and one that loads on glibc 2.36).
    package: "@trufflesuite/uws-js-unofficial",
    abis: { 115: 20 },
    targets: ["linux-x64", "linux-arm64", "linux-arm", "darwin-x64", "darwin-arm64", "win32-x64"],
    minGlibc: null,
    dir: "../binaries",
  },
];

/** One line listing the runtimes that have a build, for the refusal and the README. */
export const supportedRuntimes =
  "Node 20 (Linux x64/arm64/arm, macOS, Windows x64) with @trufflesuite/uws-js-unofficial; " +
  "Node 22, 24 and 25 with @btc-vision/uwebsockets.js on Linux x64/arm64 with glibc 2.38 or " +
  "later (Debian 13, Ubuntu 24.04), macOS or Windows x64. Linux with musl (Alpine) has no build.";

/** True when glibc version `have` is at least `need` (both `major.minor`). */
function glibcAtLeast(have: string, need: string): boolean {
  const [hMajor = 0, hMinor = 0] = have.split(".").map(Number);
  const [nMajor = 0, nMinor = 0] = need.split(".").map(Number);
  return hMajor > nMajor || (hMajor === nMajor && hMinor >= nMinor);
}

/** Picks the build for `runtime`, or says why there is none. */
export function chooseUwsBuild(runtime: Runtime): UwsChoice {
  const target = `${runtime.platform}-${runtime.arch}`;
  const offer = offers.find((o) => o.abis[runtime.abi] !== undefined);
  if (!offer) return { refusal: `no uWebSockets.js build exists for Node ABI ${runtime.abi}` };
  const node = offer.abis[runtime.abi];
  if (!offer.targets.includes(target)) {
    return { refusal: `${offer.package} has no build for Node ${node} on ${target}` };
  }
  if (runtime.platform === "linux") {
    if (runtime.glibc === null) {
      return { refusal: `${offer.package} needs glibc; this Linux has none (musl?)` };
    }
    if (offer.minGlibc !== null && !glibcAtLeast(runtime.glibc, offer.minGlibc)) {
      return {
        refusal: `${offer.package}'s build for Node ${node} needs glibc ${offer.minGlibc} or later; this system has ${runtime.glibc}`,
      };
    }
  }
  const file = `uws_${runtime.platform}_${runtime.arch}_${runtime.abi}.node`;
  return { build: { package: offer.package, binary: `${offer.dir}/${file}` } };
}

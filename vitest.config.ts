import { defineConfig } from "vitest/config";

/** Load tests that fill both cores: they run alone, once everything else has finished. */
const alone = "**/*.alone.test.ts";

export default defineConfig({
  test: {
    exclude: ["node_modules/**", "dist/**", ".cache/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores: more parallel files only add noise to the servers under test.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["**/*.test.ts"],
          exclude: ["node_modules/**", "dist/**", ".cache/**", alone],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "alone", include: [alone], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});

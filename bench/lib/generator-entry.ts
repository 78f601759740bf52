/** The process body of a load generator: runs the module named in argv on the task it is sent. */
const modulePath = process.argv[2];
if (!modulePath || !process.send) throw new Error("generator-entry runs under bench/lib/generators.ts");

process.once("message", async (task: unknown) => {
  try {
    const mod = (await import(new URL(`../${modulePath}`, import.meta.url).href)) as {
      default: (task: unknown) => Promise<unknown>;
    };
    const result = await mod.default(task);
    process.send!({ ok: true, result }, () => process.exit(0));
  } catch (err) {
    process.send!({ ok: false, error: err instanceof Error ? err.stack : String(err) }, () =>
      process.exit(1),
    );
  }
});

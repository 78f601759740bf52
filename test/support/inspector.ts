/**
 * Memory figures of a server under test, measured through the V8 inspector (the server is
 * started with `--inspect=127.0.0.1:0`, which prints the inspector's URL): a full garbage
 * collection first, so that the resident set shows what the process keeps, not what the
 * collector has not got round to yet.
 */
import WebSocket from "ws";

/** `process.memoryUsage()` of the server after a full GC, in MiB. */
export interface MemoryMiB {
  rss: number;
  heapUsed: number;
  external: number;
}

/** The inspector's WebSocket URL in a server's output, or null when it was started without one. */
export function inspectorUrlIn(output: string): string | null {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1] ?? null;
}

/** Collects the garbage of the process behind `url`, then reads its memory usage. */
export async function memoryAfterGc(url: string): Promise<MemoryMiB> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let lastId = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++lastId;
      const onMessage = (data: WebSocket.RawData) => {
        const m = JSON.parse(String(data)) as {
          id?: number;
          result?: Record<string, unknown>;
          error?: unknown;
        };
        if (m.id !== id) return;
        ws.off("message", onMessage);
        if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else resolve(m.result ?? {});
      };
      ws.on("message", onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call("HeapProfiler.enable");
    await call("HeapProfiler.collectGarbage");
    const { result } = (await call("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true,
    })) as { result: { value: string } };
    const usage = JSON.parse(result.value) as Record<string, number>;
    const mib = (bytes: number | undefined) => Math.round((bytes ?? 0) / 1048576);
    return { rss: mib(usage.rss), heapUsed: mib(usage.heapUsed), external: mib(usage.external) };
  } finally {
    ws.close();
  }
}

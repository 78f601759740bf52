import type { ColinkClient } from "@colink/client";
import { describe, expect, it } from "vitest";
import type { FileInfo } from "./app-state.js";
import { scanVerdict } from "./scan-verdict.js";
import { fileDetails, fileInfo } from "./test-files.js";

type EventListener = (topic: string, type: string, data: Record<string, unknown>) => void;

/** A client whose events the test emits and whose `file.get` answers `status()`. */
function fakeClient(status: () => FileInfo["status"]) {
  const listeners = new Set<EventListener>();
  let gets = 0;
  const client = {
    on(_event: "event", listener: EventListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async request(op: string, args: { fileId: string }) {
      if (op !== "file.get") throw new Error(`unexpected ${op}`);
      gets++;
      return fileDetails(fileInfo({ id: args.fileId, status: status() }));
    },
  } as unknown as ColinkClient;
  const emit = (file: FileInfo) => {
    for (const listener of listeners) listener("u:Ualice", "file.updated", { file });
  };
  return { client, emit, listeners, gets: () => gets };
}

describe("scanVerdict", () => {
  it("resolves on the file.updated that settles the file, and stops listening", async () => {
    const fake = fakeClient(() => "pending");
    const verdict = scanVerdict(fake.client, "A1", new AbortController().signal, 60_000);
    fake.emit(fileInfo({ id: "A1", status: "pending" }));
    fake.emit(fileInfo({ id: "A2", status: "clean" }));
    fake.emit(fileInfo({ id: "A1", status: "clean" }));
    expect((await verdict).status).toBe("clean");
    expect(fake.listeners.size).toBe(0);
  });

  it("asks file.get again and again when the event does not come", async () => {
    let status: FileInfo["status"] = "pending";
    const fake = fakeClient(() => status);
    const verdict = scanVerdict(fake.client, "A1", new AbortController().signal, 5);
    await expect.poll(() => fake.gets()).toBeGreaterThanOrEqual(2);
    status = "infected";
    expect((await verdict).status).toBe("infected");
    expect(fake.listeners.size).toBe(0);
  });

  it("rejects when aborted", async () => {
    const fake = fakeClient(() => "pending");
    const controller = new AbortController();
    const verdict = scanVerdict(fake.client, "A1", controller.signal, 60_000);
    controller.abort(new Error("superseded"));
    await expect(verdict).rejects.toThrow("superseded");
    expect(fake.listeners.size).toBe(0);
  });
});

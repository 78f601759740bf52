import { type ColinkClient, ColinkRequestError } from "@colink/client";
import { describe, expect, it } from "vitest";
import { type AppState, type FileDetails, initialAppState } from "./app-state.js";
import { FileLoader } from "./file-loader.js";
import { createStore } from "./store.js";
import { fileDetails, fileInfo } from "./test-files.js";

/** A client whose `file.get` answers are settled by the test, one request at a time. */
function fakeClient() {
  const asked: Array<{ fileId: string; answer: (d: FileDetails) => void; fail: (e: Error) => void }> = [];
  const client = {
    request(op: string, args: { fileId: string }) {
      if (op !== "file.get") throw new Error(`unexpected ${op}`);
      return new Promise<FileDetails>((answer, fail) => asked.push({ fileId: args.fileId, answer, fail }));
    },
  } as unknown as ColinkClient;
  return { client, asked };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("FileLoader", () => {
  it("asks once per file, and applies file.updated at once before asking again", async () => {
    const { client, asked } = fakeClient();
    const store = createStore<AppState>(initialAppState);
    const files = new FileLoader(client, store);
    files.ensure("F1");
    files.ensure("F1");
    expect(asked).toHaveLength(1);
    asked[0]!.answer(fileDetails(fileInfo({ id: "F1", status: "pending" })));
    await settle();
    expect(store.get().files.F1!.details!.file.status).toBe("pending");
    files.ensure("F1");
    expect(asked).toHaveLength(1);

    files.onUpdated(fileInfo({ id: "F1", status: "infected" }));
    expect(store.get().files.F1).toMatchObject({ stale: true, details: { file: { status: "infected" } } });
    expect(asked).toHaveLength(2);
    asked[1]!.answer(fileDetails(fileInfo({ id: "F1", status: "infected" })));
    await settle();
    expect(store.get().files.F1).toMatchObject({ stale: false, details: { url: null } });
  });

  it("never lets a late answer undo a newer status", async () => {
    const { client, asked } = fakeClient();
    const store = createStore<AppState>(initialAppState);
    const files = new FileLoader(client, store);
    files.ensure("F1");
    // The scan's verdict arrives while the first answer (still "pending") is on its way.
    files.onUpdated(fileInfo({ id: "F1", status: "clean" }));
    expect(asked).toHaveLength(2);
    asked[1]!.answer(fileDetails(fileInfo({ id: "F1", status: "clean" })));
    asked[0]!.answer(fileDetails(fileInfo({ id: "F1", status: "pending" })));
    await settle();
    expect(store.get().files.F1!.details!.file.status).toBe("clean");
  });

  it("marks a file not found, ignores updates of files not shown, and asks again after a reconnect", async () => {
    const { client, asked } = fakeClient();
    const store = createStore<AppState>(initialAppState);
    const files = new FileLoader(client, store);
    files.onUpdated(fileInfo({ id: "F7" }));
    expect(asked).toHaveLength(0);
    expect(store.get().files).toEqual({});

    files.ensure("F8");
    asked[0]!.fail(
      new ColinkRequestError({ code: "not_found", message: "file not found", retryable: false }),
    );
    files.ensure("F9");
    asked[1]!.fail(new ColinkRequestError({ code: "unavailable", message: "offline", retryable: true }));
    files.ensure("F2");
    asked[2]!.answer(fileDetails(fileInfo({ id: "F2", status: "pending" })));
    await settle();
    expect(store.get().files.F8).toEqual({ details: null, missing: true, stale: false });
    expect(store.get().files.F9).toBeUndefined();

    files.refreshUnsettled();
    expect(
      asked
        .slice(3)
        .map((a) => a.fileId)
        .sort(),
    ).toEqual(["F2", "F9"]);
  });
});

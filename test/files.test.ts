/**
 * Files end to end, against real servers: a Colink server with its files on local disk
 * and a real clamd (test/support/clamav.ts), then one with S3 (S3Mock), and the embedded
 * default with no scanner. An upload goes file.begin → PUT to the signed URL →
 * file.complete → scan; a message carries it; the other members get its status live and
 * download it, with thumbnails for a clean image. The EICAR file is quarantined and never
 * downloadable; a file is never served while clamd is down; outsiders get the same answer
 * as for a file that does not exist.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColinkClient } from "../client/index.js";
import { ColinkRequestError } from "../client/index.js";
import type { FileInfo } from "../core/types.js";
import { api, connectAs, startServer, type TestServer } from "./harness.js";
import { eicarTestFile, startClamd, type TestClamd } from "./support/clamav.js";
import { png } from "./support/images.js";
import { startS3Mock, type TestS3 } from "./support/s3mock.js";

/** The URL a client resolves: the local disk's are relative to the server. */
const absolute = (server: TestServer, url: string) => new URL(url, server.baseUrl).toString();

/** Uploads `bytes` as a file of `channelId`: begin, PUT, complete. */
async function upload(
  server: TestServer,
  client: ColinkClient,
  channelId: string,
  name: string,
  contentType: string,
  bytes: Uint8Array,
): Promise<FileInfo> {
  const begun = await client.request("file.begin", { channelId, name, size: bytes.length, contentType });
  const put = await fetch(absolute(server, begun.uploadUrl), {
    method: "PUT",
    headers: { "content-type": contentType },
    body: Buffer.from(bytes),
  });
  expect(put.status, await put.clone().text()).toBeLessThan(300);
  return (await client.request("file.complete", { fileId: begun.fileId })).file;
}

/** Asks for a file until `check` holds. */
async function fileWhen(
  client: ColinkClient,
  fileId: string,
  check: (
    got: Awaited<ReturnType<ColinkClient["request"]>> & { file: FileInfo; url: string | null },
  ) => boolean,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await client.request("file.get", { fileId });
    if (check(got)) return got;
    if (Date.now() > deadline) throw new Error(`file ${fileId} stayed ${got.file.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The error code of a request that must fail. */
async function codeOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (err) {
    if (err instanceof ColinkRequestError) return err.code;
    throw err;
  }
  throw new Error("the request succeeded");
}

describe("files with a virus scanner, on local disk", () => {
  let clamd: TestClamd;
  let server: TestServer;
  const clients: ColinkClient[] = [];
  let alice: ColinkClient;
  let bob: ColinkClient;
  let carol: ColinkClient;
  let channelId: string;

  beforeAll(async () => {
    clamd = await startClamd();
    server = await startServer("postgres", {
      CLAMAV_URL: `tcp://${clamd.host}:${clamd.port}`,
      COLINK_MAX_FILE_BYTES: String(5 * 1024 * 1024),
      COLINK_FILE_TYPES: "image/*,text/plain,application/pdf",
    });
    for (const name of ["files-alice", "files-bob", "files-carol"]) {
      clients.push((await connectAs(server, name)).client);
    }
    [alice, bob, carol] = clients as [ColinkClient, ColinkClient, ColinkClient];
    const bobId = (await bob.request("user.me", {})).user.id;
    channelId = (await alice.request("ch.create", { name: "design", kind: "private" })).channel.id;
    await alice.request("ch.invite", { channelId, userId: bobId });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.cleanup();
    await clamd?.cleanup();
  });

  it("scans a clean image, makes its thumbnails, and serves it to the channel's members only", async () => {
    const updates: FileInfo[] = [];
    bob.on("event", (_topic, type, data) => {
      if (type === "file.updated") updates.push((data as { file: FileInfo }).file);
    });
    await bob.subscribe(channelId, () => {});
    const image = await png(1600, 900);
    const file = await upload(server, alice, channelId, "whiteboard.png", "image/png", image);
    expect(file).toMatchObject({
      name: "whiteboard.png",
      size: image.length,
      status: "pending",
      uploaderId: expect.any(String),
    });
    // Not shared yet: only its uploader knows it.
    expect(await codeOf(bob.request("file.get", { fileId: file.id }))).toBe("not_found");

    const { message } = await alice.send(channelId, "", { fileIds: [file.id] });
    expect(message.files).toEqual([file.id]);
    const got = await fileWhen(bob, file.id, (g) => g.file.status === "clean" && g.url !== null);
    expect(got.file.thumbnails).toEqual([
      { size: "small", width: 96, height: 54 },
      { size: "medium", width: 480, height: 270 },
    ]);
    // Bob was told live (he is subscribed to the channel).
    await expect.poll(() => updates.some((f) => f.id === file.id && f.status === "clean")).toBe(true);
    const download = await fetch(absolute(server, got.url!));
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toContain("whiteboard.png");
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(new Uint8Array(image));
    const small = await fetch(absolute(server, got.thumbnails.small!));
    expect(small.headers.get("content-type")).toBe("image/webp");
    expect((await sharp(Buffer.from(await small.arrayBuffer())).metadata()).width).toBe(96);

    // Carol is no member: the same answer as for a file that does not exist.
    const missing = `${file.id.slice(0, 21).replace(/.$/, "Z")}_${channelId}`;
    for (const fileId of [file.id, missing]) {
      const err = await carol.request("file.get", { fileId }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "not_found", message: "file not found" });
    }
    // Nor can she share it, or complete it.
    expect(await codeOf(carol.request("file.complete", { fileId: file.id }))).toBe("not_found");

    // Dave could get it while a member; once he has left, the same answer as for no file.
    const { client: dave, userId: daveId } = await connectAs(server, "files-dave");
    clients.push(dave);
    await alice.request("ch.invite", { channelId, userId: daveId });
    expect((await dave.request("file.get", { fileId: file.id })).url).not.toBeNull();
    await dave.request("ch.leave", { channelId });
    const afterLeaving = await dave.request("file.get", { fileId: file.id }).catch((e: unknown) => e);
    expect(afterLeaving).toMatchObject({ code: "not_found", message: "file not found" });
  }, 60_000);

  it("quarantines the EICAR file: it never becomes downloadable, and cannot be shared once known", async () => {
    const file = await upload(
      server,
      alice,
      channelId,
      "eicar.txt",
      "text/plain",
      Buffer.from(eicarTestFile),
    );
    // Shared while it is still being scanned (as "scanning"), then found infected.
    await alice.send(channelId, "look at this", { fileIds: [file.id] });
    const seen = await fileWhen(bob, file.id, (g) => g.file.status !== "pending");
    expect(seen).toMatchObject({ file: { status: "infected" }, url: null, thumbnails: {} });
    const own = await alice.request("file.get", { fileId: file.id });
    expect(own).toMatchObject({ file: { status: "infected" }, url: null });
    expect(await codeOf(alice.send(channelId, "again", { fileIds: [file.id] }))).toBe("bad_request");
  }, 60_000);

  it("keeps files pending while clamd is down, and scans them once it is back", async () => {
    await clamd.stop();
    const file = await upload(
      server,
      alice,
      channelId,
      "notes.txt",
      "text/plain",
      Buffer.from("minutes of the meeting"),
    );
    await alice.send(channelId, "notes", { fileIds: [file.id] });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await bob.request("file.get", { fileId: file.id })).toMatchObject({
      file: { status: "pending" },
      url: null,
    });
    await clamd.restart();
    await fileWhen(bob, file.id, (g) => g.file.status === "clean" && g.url !== null, 30_000);
  }, 60_000);

  it("refuses bad uploads with clear codes, and works over HTTP", async () => {
    const begin = (args: Record<string, unknown>) =>
      alice.request("file.begin", { channelId, ...args } as never);
    expect(await codeOf(begin({ name: "big.png", size: 6 * 1024 * 1024, contentType: "image/png" }))).toBe(
      "too_large",
    );
    expect(await codeOf(begin({ name: "app.exe", size: 10, contentType: "application/x-msdownload" }))).toBe(
      "bad_request",
    );
    expect(await codeOf(begin({ name: "x", size: -1, contentType: "text/plain" }))).toBe("bad_request");
    // Carol may not post there.
    expect(
      await codeOf(
        carol.request("file.begin", { channelId, name: "a.txt", size: 1, contentType: "text/plain" }),
      ),
    ).toBe("not_found");
    // Completed before its bytes arrived, or with other bytes than announced.
    const begun = await alice.request("file.begin", {
      channelId,
      name: "a.txt",
      size: 5,
      contentType: "text/plain",
    });
    expect(await codeOf(alice.request("file.complete", { fileId: begun.fileId }))).toBe("bad_request");
    const wrongSize = await fetch(absolute(server, begun.uploadUrl), {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "too long for five",
    });
    expect(wrongSize.status).toBeGreaterThanOrEqual(400);
    const wrongType = await fetch(absolute(server, begun.uploadUrl), {
      method: "PUT",
      headers: { "content-type": "text/html" },
      body: "hello",
    });
    expect(wrongType.status).toBe(403);
    // A file id made up by hand, or someone else's.
    expect(await codeOf(alice.request("file.get", { fileId: "F0000000000000000000A_Cnope" }))).toBe(
      "not_found",
    );

    // The same flow over HTTP.
    const { token } = await (await import("./harness.js")).devToken(server, "files-alice");
    const started = await api(server, token, "POST", "/v1/files", {
      channelId,
      name: "plan.pdf",
      size: 4,
      contentType: "application/pdf",
    });
    expect(started.status).toBe(201);
    const put = await fetch(absolute(server, started.body.uploadUrl as string), {
      method: "PUT",
      headers: { "content-type": "application/pdf" },
      body: "%PDF",
    });
    expect(put.status).toBeLessThan(300);
    const fileId = started.body.fileId as string;
    const done = await api(server, token, "POST", `/v1/files/${fileId}/complete`);
    expect(done).toMatchObject({ status: 200, body: { file: { id: fileId, status: "pending" } } });
    const sent = await api(server, token, "POST", `/v1/channels/${channelId}/messages`, {
      text: "",
      fileIds: [fileId],
    });
    expect(sent.status).toBe(201);
    await expect
      .poll(async () => (await api(server, token, "GET", `/v1/files/${fileId}`)).body.url, {
        timeout: 20_000,
      })
      .toEqual(expect.any(String));
  }, 60_000);
});

describe("avatars, scanned like files", () => {
  let clamd: TestClamd;
  let server: TestServer;
  const clients: ColinkClient[] = [];

  beforeAll(async () => {
    clamd = await startClamd();
    server = await startServer("pglite", { CLAMAV_URL: `tcp://${clamd.host}:${clamd.port}` });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.cleanup();
    await clamd?.cleanup();
  });

  it("links a clean avatar from the profile, which others then see, and refuses anything else", async () => {
    const [dora, eli] = await Promise.all(
      ["avatar-dora", "avatar-eli"].map(async (name) => (await connectAs(server, name)).client),
    );
    clients.push(dora!, eli!);
    const image = await png(256, 256);
    const begun = await dora!.request("user.avatar.begin", {
      name: "me.png",
      size: image.length,
      contentType: "image/png",
    });
    expect(begun.fileId).toMatch(/^A/);
    const put = await fetch(absolute(server, begun.uploadUrl), {
      method: "PUT",
      headers: { "content-type": "image/png" },
      body: Buffer.from(image),
    });
    expect(put.status).toBeLessThan(300);
    const { file } = await dora!.request("file.complete", { fileId: begun.fileId });
    expect(file).toMatchObject({ channelId: null, status: "pending" });
    const clean = await fileWhen(dora!, file.id, (g) => g.file.status === "clean");
    expect(clean.file.thumbnails.map((t) => t.size)).toEqual(["small", "medium"]);
    const { user } = await dora!.request("user.update", { avatarFileId: file.id });
    expect(user.avatarFileId).toBe(file.id);

    // Eli sees it on the profile, and may fetch it.
    const seen = await eli!.request("user.get", { userId: user.id });
    expect(seen.user.avatarFileId).toBe(file.id);
    const got = await eli!.request("file.get", { fileId: file.id });
    expect(new Uint8Array(await (await fetch(absolute(server, got.url!))).arrayBuffer())).toEqual(
      new Uint8Array(image),
    );
    // But may not link it as his own, or complete it.
    expect(await codeOf(eli!.request("user.update", { avatarFileId: file.id }))).toBe("not_found");
    expect(await codeOf(eli!.request("file.complete", { fileId: file.id }))).toBe("not_found");
    // Only images, and small ones.
    expect(
      await codeOf(
        dora!.request("user.avatar.begin", { name: "a.txt", size: 3, contentType: "text/plain" } as never),
      ),
    ).toBe("bad_request");
    expect(
      await codeOf(
        dora!.request("user.avatar.begin", {
          name: "big.png",
          size: 6 * 1024 * 1024,
          contentType: "image/png",
        }),
      ),
    ).toBe("too_large");
    // null removes it.
    expect((await dora!.request("user.update", { avatarFileId: null })).user.avatarFileId).toBeNull();
  }, 60_000);
});

describe("files without a scanner (the embedded default), and on S3", () => {
  let s3: TestS3 | null = null;
  const servers: TestServer[] = [];
  const clients: ColinkClient[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.cleanup()));
    await s3?.cleanup();
  });

  async function channelOf(server: TestServer, username: string) {
    const { client } = await connectAs(server, username);
    clients.push(client);
    const { channel } = await client.request("ch.create", { name: "drop", kind: "public" });
    return { client, channelId: channel.id };
  }

  it("serves unscanned files by default, and not when COLINK_UNSCANNED_FILES=block", async () => {
    for (const policy of ["allow", "block"] as const) {
      const server = await startServer(
        "pglite",
        policy === "block" ? { COLINK_UNSCANNED_FILES: "block" } : {},
      );
      servers.push(server);
      const { client, channelId } = await channelOf(server, `plain-${policy}`);
      const file = await upload(server, client, channelId, "a.txt", "text/plain", Buffer.from("hello"));
      expect(file.status).toBe("unscanned");
      const got = await client.request("file.get", { fileId: file.id });
      if (policy === "allow") {
        expect(await (await fetch(absolute(server, got.url!))).text()).toBe("hello");
      } else {
        expect(got.url).toBeNull();
      }
    }
  }, 120_000);

  it("uploads to and downloads from S3 with presigned URLs, scanned by clamd", async () => {
    s3 = await startS3Mock();
    const clamd = await startClamd();
    try {
      const server = await startServer("pglite", {
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: "on",
        S3_ACCESS_KEY_ID: "test",
        S3_SECRET_ACCESS_KEY: "test",
        S3_BUCKET_FILES: "colink-files",
        CLAMAV_URL: `tcp://${clamd.host}:${clamd.port}`,
      });
      servers.push(server);
      const { client, channelId } = await channelOf(server, "s3-user");
      const image = await png(300, 600);
      const file = await upload(server, client, channelId, "tall.png", "image/png", image);
      expect(file.status).toBe("pending");
      await client.send(channelId, "on s3", { fileIds: [file.id] });
      const got = await fileWhen(client, file.id, (g) => g.url !== null);
      expect(got.url).toContain(s3.endpoint);
      expect(new Uint8Array(await (await fetch(got.url!)).arrayBuffer())).toEqual(new Uint8Array(image));
      expect(got.file.thumbnails).toEqual([
        { size: "small", width: 48, height: 96 },
        { size: "medium", width: 240, height: 480 },
      ]);
    } finally {
      await clamd.cleanup();
    }
  }, 180_000);
});

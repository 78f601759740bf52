/**
 * The worlds of the authorization matrix (test/authorization-matrix.test.ts): a channel of
 * one kind, made by a fresh owner over HTTP, with the people the case needs as members and
 * the things the ops name (a thread, an edited message, a schedule, files, an avatar),
 * archived last when the kind says so. Everything is made through the server's own API,
 * as any client would.
 */
import type { SiteRole } from "../../core/types.js";
import type { TestServer } from "../harness.js";
import { png } from "./images.js";

/** A signed-in user. */
export interface Person {
  id: string;
  username: string;
  token: string;
  role: SiteRole;
}

/** What a world holds beyond its channel and members. */
export type Need = "thread" | "schedule" | "files" | "avatar";

/** The channel kinds a world can have (the matrix's kinds but `-`). */
export type WorldKind = "pub" | "priv" | "dm" | "gdm" | "apub" | "apriv";

/** A channel and what is in it. */
export interface World {
  kind: WorldKind;
  channelId: string;
  owner: Person;
  /** Everyone in the channel, owner included. */
  members: Person[];
  /** A member who is neither the owner nor a caller (in a DM with a caller: the owner). */
  target: Person;
  /** A word only this world's messages hold, for search. */
  word: string;
  /** A top-level message of the owner, edited once, with one reply (the owner's). */
  root: string;
  /** A pending message the owner scheduled for tomorrow. */
  schedule: string;
  /** The owner's upload that a message carries. */
  sharedFile: string;
  /** The owner's upload that no message carries (completed). */
  unsharedFile: string;
  /** The owner's avatar (completed). */
  avatar: string;
}

/** An HTTP answer. */
export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The world factory of one server. */
export class Worlds {
  private counter = 0;
  private readonly indexed = new WeakMap<World, Promise<void>>();
  private readonly everyone: Promise<{
    target: Person;
    bystander: Person;
    invitee: Person;
  }>;

  constructor(readonly server: TestServer) {
    this.everyone = (async () => ({
      target: await this.person("member", "target"),
      bystander: await this.person("member", "bystander"),
      invitee: await this.person("member", "invitee"),
    }))();
  }

  /** A user no world puts in its channel (the invitations of the matrix do). */
  async invitee(): Promise<Person> {
    return (await this.everyone).invitee;
  }

  /** A new signed-in user (dev sign-in with `role`). */
  async person(role: SiteRole, prefix: string): Promise<Person> {
    const username = `${prefix}${this.counter++}`;
    const res = await fetch(`${this.server.baseUrl}/auth/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, role }),
    });
    if (!res.ok) throw new Error(`dev token for ${username} (${role}): ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { accessToken: string; user: { id: string } };
    return { id: body.user.id, username, token: body.accessToken, role };
  }

  /** An HTTP request as `who`. */
  async http(who: Person, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const res = await fetch(`${this.server.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${who.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  /** An HTTP request that must succeed; its JSON answer. */
  async must(who: Person, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await this.http(who, method, path, body);
    if (res.status >= 300)
      throw new Error(
        `setup ${method} ${path} as ${who.username}: ${res.status} ${JSON.stringify(res.body)}`,
      );
    return res.body;
  }

  /**
   * A new world of `kind` whose members are the owner, the target and `callers`, holding
   * what `needs` asks for. `before` runs before the channel is archived (for archived
   * kinds), to write what a case needs while that is still allowed.
   */
  async build(
    kind: WorldKind,
    callers: Person[],
    needs: ReadonlySet<Need>,
    before?: (w: World) => Promise<void>,
  ): Promise<World> {
    const { target, bystander } = await this.everyone;
    const owner = await this.person("member", "owner");
    const n = this.counter++;
    const word = `zebu${n}q`;
    let channelId: string;
    let members: Person[];
    let worldTarget = target;
    if (kind === "dm" || kind === "gdm") {
      if (kind === "dm" && callers.length > 1) throw new Error("a DM holds two people");
      const others =
        kind === "dm" ? (callers.length === 1 ? callers : [target]) : [...callers, target, bystander];
      if (kind === "dm" && callers.length === 1) worldTarget = owner;
      const opened = await this.must(owner, "POST", "/v1/dms", { userIds: others.map((p) => p.id) });
      channelId = (opened.channel as { id: string; kind: string }).id;
      members = [owner, ...others];
    } else {
      const isPublic = kind === "pub" || kind === "apub";
      const made = await this.must(owner, "POST", "/v1/channels", {
        name: `m-${n}`,
        kind: isPublic ? "public" : "private",
      });
      channelId = (made.channel as { id: string }).id;
      for (const p of [target, ...callers]) await this.invite(owner, channelId, p);
      members = [owner, target, ...callers];
    }
    const world: World = {
      kind,
      channelId,
      owner,
      members,
      target: worldTarget,
      word,
      root: "",
      schedule: "",
      sharedFile: "",
      unsharedFile: "",
      avatar: "",
    };
    if (needs.has("thread")) {
      world.root = await this.send(owner, channelId, `${word} first`);
      await this.must(owner, "PATCH", `/v1/messages/${world.root}`, { channelId, text: `${word} root` });
      await this.send(owner, channelId, `${word} reply`, { threadRootId: world.root });
    }
    if (needs.has("schedule")) world.schedule = await this.schedule(owner, channelId);
    if (needs.has("files")) {
      world.sharedFile = await this.upload(owner, channelId, true);
      await this.send(owner, channelId, `${word} file`, { fileIds: [world.sharedFile] });
      world.unsharedFile = await this.upload(owner, channelId, true);
    }
    if (needs.has("avatar")) world.avatar = await this.avatar(owner, true);
    await before?.(world);
    if (kind === "apub" || kind === "apriv") await this.must(owner, "DELETE", `/v1/channels/${channelId}`);
    return world;
  }

  /** Resolves once search finds the world's messages (the index follows the log within about a second). */
  searchable(w: World): Promise<void> {
    let done = this.indexed.get(w);
    if (!done) {
      done = (async () => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const res = await this.http(w.owner, "GET", `/v1/search?q=${w.word}&channelId=${w.channelId}`);
          if (res.status === 200 && (res.body.hits as unknown[]).length > 0) return;
          if (Date.now() > deadline) throw new Error(`${w.word} was never found: ${JSON.stringify(res)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      this.indexed.set(w, done);
    }
    return done;
  }

  /** `who` adds `p` to a channel. */
  async invite(who: Person, channelId: string, p: Person): Promise<void> {
    await this.must(who, "POST", `/v1/channels/${channelId}/members`, { userId: p.id });
  }

  /** `who` leaves a channel. */
  async leave(who: Person, channelId: string): Promise<void> {
    await this.must(who, "DELETE", `/v1/channels/${channelId}/members/${encodeURIComponent(who.id)}`);
  }

  /** A message by `who`; its id. */
  async send(
    who: Person,
    channelId: string,
    text: string,
    extra: { threadRootId?: string; fileIds?: string[] } = {},
  ): Promise<string> {
    const sent = await this.must(who, "POST", `/v1/channels/${channelId}/messages`, { text, ...extra });
    return (sent.message as { id: string }).id;
  }

  /** A message `who` schedules for tomorrow; the schedule's id. */
  async schedule(who: Person, channelId: string): Promise<string> {
    const made = await this.must(who, "POST", `/v1/channels/${channelId}/scheduled`, {
      text: "later",
      sendAt: Date.now() + 86_400_000,
    });
    return (made.scheduled as { id: string }).id;
  }

  /** A small text file `who` uploads to a channel (begin, PUT, and complete when asked); its id. */
  async upload(who: Person, channelId: string, complete: boolean): Promise<string> {
    const bytes = Buffer.from("hello, matrix");
    const begun = await this.must(who, "POST", "/v1/files", {
      channelId,
      name: "note.txt",
      size: bytes.length,
      contentType: "text/plain",
    });
    return this.put(who, begun, bytes, "text/plain", complete);
  }

  /** An avatar `who` uploads (and completes when asked); its id. */
  async avatar(who: Person, complete: boolean): Promise<string> {
    const bytes = await png(8, 8);
    const begun = await this.must(who, "POST", "/v1/users/me/avatar", {
      name: "me.png",
      size: bytes.length,
      contentType: "image/png",
    });
    return this.put(who, begun, bytes, "image/png", complete);
  }

  private async put(
    who: Person,
    begun: Record<string, unknown>,
    bytes: Buffer,
    contentType: string,
    complete: boolean,
  ): Promise<string> {
    const fileId = begun.fileId as string;
    const put = await fetch(new URL(begun.uploadUrl as string, this.server.baseUrl), {
      method: "PUT",
      headers: { "content-type": contentType },
      body: new Uint8Array(bytes),
    });
    if (put.status >= 300) throw new Error(`upload PUT: ${put.status} ${await put.text()}`);
    if (complete) await this.must(who, "POST", `/v1/files/${fileId}/complete`);
    return fileId;
  }
}

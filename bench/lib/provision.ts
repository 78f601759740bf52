/** Creating the users, channels and memberships a scenario needs, over the HTTP API. */
import { devToken } from "./wire.js";

/** A signed-in user. */
export interface BenchUser {
  token: string;
  userId: string;
}

async function api<T>(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error?.code} ${json.error?.message}`);
  return json;
}

/**
 * `count` users: dev sign-in on the target, or the given tokens (a remote deployment
 * without dev sign-in). Runs a few at a time.
 */
export async function users(
  baseUrl: string,
  prefix: string,
  count: number,
  tokens: string[] = [],
): Promise<BenchUser[]> {
  if (tokens.length > 0) {
    if (tokens.length < count) throw new Error(`need ${count} tokens, got ${tokens.length}`);
    const out: BenchUser[] = [];
    for (const token of tokens.slice(0, count)) {
      const me = await api<{ user: { id: string } }>(baseUrl, token, "GET", "/v1/users/me");
      out.push({ token, userId: me.user.id });
    }
    return out;
  }
  const out: BenchUser[] = new Array(count);
  const batch = 50;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
        const t = await devToken(baseUrl, `${prefix}${i + j}`);
        out[i + j] = { token: t.token, userId: t.userId };
      }),
    );
  }
  return out;
}

/** Creates a public channel owned by `owner`; returns its id. */
export async function channel(baseUrl: string, owner: BenchUser, name: string): Promise<string> {
  const r = await api<{ channel: { id: string } }>(baseUrl, owner.token, "POST", "/v1/channels", {
    name: name.toLowerCase().replace(/[^a-z0-9_-]/g, "-"),
    kind: "public",
  });
  return r.channel.id;
}

/** Makes every one of `members` join the channel, a few at a time. */
export async function join(baseUrl: string, channelId: string, members: BenchUser[]): Promise<void> {
  const batch = 50;
  for (let i = 0; i < members.length; i += batch) {
    await Promise.all(
      members
        .slice(i, i + batch)
        .map((m) => api(baseUrl, m.token, "POST", `/v1/channels/${channelId}/members`, {})),
    );
  }
}

/** A run-unique prefix for names, so repeated runs against one server do not collide. */
export function runPrefix(tag: string): string {
  return `${tag}${Date.now().toString(36)}-`;
}

/**
 * Loads the S8 corpus (bench/lib/search-corpus.ts) straight into a Colink schema with
 * COPY, as the send path would have left it: `users` (the authors), `channels` (with
 * `last_seq`), `channel_members` (the searcher's memberships included), `messages`, and
 * `channel_events`, the log the search indexers follow: per channel a `channel.created`
 * at seq 1, then one `message.created` per message whose data is `{message: <Message>}`.
 * Run while no Colink uses the schema (its channel actors would not know the rows).
 */
import type { Writable } from "node:stream";
import postgres from "postgres";
import { localDatabaseUrl } from "../../test/support/processes.js";
import { type CorpusPlan, channelMessages, messageView } from "./search-corpus.js";

/** A value in COPY's text format (`\N` for NULL; backslash, tab, newline and CR escaped). */
export function copyField(value: string | number | boolean | null): string {
  if (value === null) return "\\N";
  if (typeof value !== "string") return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

const row = (values: Array<string | number | boolean | null>) => `${values.map(copyField).join("\t")}\n`;

/** Writes `chunk` and waits for the stream to take more. */
function write(stream: Writable, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.write(chunk)) return resolve();
    const onError = (err: Error) => {
      stream.off("drain", onDrain);
      reject(err);
    };
    const onDrain = () => {
      stream.off("error", onError);
      resolve();
    };
    stream.once("drain", onDrain);
    stream.once("error", onError);
  });
}

function finish(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once("error", reject);
    stream.end(() => resolve());
  });
}

/** What the load wrote and how long it took. */
export interface LoadOutcome {
  messages: number;
  events: number;
  ms: number;
}

/**
 * Loads `plan` into `schema`, the searchers (`searcherIds`, signed in already) members of
 * its searcher channels. Messages and events go over two connections at once.
 */
export async function loadCorpus(
  schema: string,
  plan: CorpusPlan,
  searcherIds: readonly string[],
  progress: (line: string) => void,
): Promise<LoadOutcome> {
  const started = performance.now();
  const opts = { max: 1, onnotice: () => {}, connection: { search_path: schema } };
  const a = postgres(localDatabaseUrl, opts);
  const b = postgres(localDatabaseUrl, opts);
  try {
    const { shape } = plan;
    await a.begin(async (tx) => {
      const users = await tx
        .unsafe("COPY users (id, username, display_name, role, created_at) FROM STDIN")
        .writable();
      let text = "";
      for (const u of plan.authors)
        text += row([u.id, u.username, u.displayName, "member", shape.startAt - 86_400_000]);
      await write(users, text);
      await finish(users);

      const channels = await tx
        .unsafe(
          "COPY channels (id, name, kind, topic, created_by, created_at, archived, last_seq) FROM STDIN",
        )
        .writable();
      text = "";
      for (const c of plan.channels) {
        text += row([c.id, c.name, c.kind, "", c.createdBy, c.createdAt, false, c.messages + 1]);
      }
      await write(channels, text);
      await finish(channels);

      const members = await tx
        .unsafe("COPY channel_members (channel_id, user_id, role, joined_at, last_read_seq) FROM STDIN")
        .writable();
      text = "";
      for (const c of plan.channels) {
        for (const [k, m] of c.members.entries()) {
          text += row([c.id, plan.authors[m]!.id, k === 0 ? "owner" : "member", c.createdAt, 0]);
        }
        if (c.searcherMember) {
          for (const id of searcherIds) text += row([c.id, id, "member", c.createdAt, 0]);
        }
      }
      await write(members, text);
      await finish(members);
    });

    const messages = await a
      .unsafe("COPY messages (id, channel_id, seq, author_id, text, client_msg_id, created_at) FROM STDIN")
      .writable();
    const events = await b
      .unsafe("COPY channel_events (channel_id, seq, type, data, created_at) FROM STDIN")
      .writable();
    let written = 0;
    let lastReport = performance.now();
    for (const c of plan.channels) {
      const created = {
        channel: {
          id: c.id,
          name: c.name,
          kind: c.kind,
          topic: "",
          createdBy: c.createdBy,
          createdAt: c.createdAt,
          archived: false,
          lastSeq: 1,
          memberCount: 0,
        },
      };
      let ev = row([c.id, 1, "channel.created", JSON.stringify(created), c.createdAt]);
      let msg = "";
      for (const m of channelMessages(plan, c)) {
        msg += row([m.id, m.channelId, m.seq, m.authorId, m.text, m.clientMsgId, m.createdAt]);
        ev += row([
          m.channelId,
          m.seq,
          "message.created",
          JSON.stringify({ message: messageView(m) }),
          m.createdAt,
        ]);
      }
      await Promise.all([write(messages, msg), write(events, ev)]);
      written += c.messages;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(
          `S8 load: ${written.toLocaleString("en-US")} of ${shape.messages.toLocaleString("en-US")} messages`,
        );
      }
    }
    await Promise.all([finish(messages), finish(events)]);
    for (const table of ["users", "channels", "channel_members", "messages", "channel_events"]) {
      await a.unsafe(`ANALYZE ${table}`);
    }
    return { messages: written, events: written + plan.channels.length, ms: performance.now() - started };
  } finally {
    await Promise.all([a.end({ timeout: 5 }), b.end({ timeout: 5 })]);
  }
}

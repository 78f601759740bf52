/**
 * The data and the queries of S8 (search), made deterministically from a seed: users,
 * channels (public and private), memberships (the searcher's among them), and chat-like
 * messages whose words follow a Zipf-like distribution over a fixed vocabulary, with
 * some links, some code-like tokens, a few fixed phrases and a few rare words the query
 * mix looks for. Pure: no I/O, so that the same seed gives the same corpus everywhere.
 */
import { prng } from "./prng.js";

/** Mixes two numbers into a seed (for one PRNG per channel, independent of the others). */
export function mixSeed(a: number, b: number): number {
  let h = (a ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (b + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The head of the vocabulary, most frequent first: function words (which the English
 * full-text configuration ignores), then chat and engineering words. The query words are
 * among them, at known ranks.
 */
const headWords = (
  "the to i a and it is we you on for this that in of be can with just have so do not at " +
  "deploy is are will build ok yes if but what was my from test now know think need " +
  "today fix release up out get check review thanks please team issue there about one " +
  "all let me go see should here would when still more back looks like time new code " +
  "branch main merge server error failed working update meeting tomorrow morning last " +
  "week sure done try again some staging prod config change pr ticket bug customer " +
  "question idea plan doc docs design api client service database query cache queue " +
  "latency alert incident rollback migration schema index search ui page button login " +
  "token session user users account billing invoice report metrics dashboard graph " +
  "logs trace timeout retry network dns cert ssl load memory cpu disk cluster node " +
  "pod container image pipeline ci job runner flaky green red blocked waiting ready " +
  "shipping shipped landed reverted broke broken works nice great cool awesome agree " +
  "maybe probably later soon quick small big slow fast easy hard weird strange " +
  "interesting lunch coffee call sync standup demo sprint roadmap quarter goal scope " +
  "estimate priority backlog owner handle handover oncall rotation pager weekend " +
  "friday monday holiday vacation offsite hiring interview feedback onboarding " +
  "laptop vpn wifi access permission admin role group channel thread message reply " +
  "email notification mobile android ios web browser chrome safari firefox desktop " +
  "version upgrade patch hotfix feature flag rollout experiment cohort funnel signup " +
  "payment refund checkout cart order shipment warehouse inventory vendor contract " +
  "legal security audit compliance privacy gdpr backup restore snapshot replica " +
  "failover region zone latency throughput benchmark profile leak crash panic " +
  "stacktrace exception null undefined type lint format refactor cleanup rename " +
  "delete remove add create write read parse render compile bundle package library"
)
  .split(" ")
  .filter((w, i, all) => w !== "" && all.indexOf(w) === i);

const syllables = (
  "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no " +
  "nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu tra pre " +
  "sto gri fen dal mor vin"
).split(" ");

/** The long tail: made-up words (three syllables), deterministic, none of them a head word. */
function tailWords(count: number): string[] {
  const rnd = prng(0x5eed);
  const out: string[] = [];
  const seen = new Set(headWords);
  while (out.length < count) {
    let w = "";
    for (let i = 0; i < 3; i++) w += syllables[Math.floor(rnd() * syllables.length)];
    if (!seen.has(w)) {
      seen.add(w);
      out.push(w);
    }
  }
  return out;
}

/** The whole vocabulary, most frequent first. */
export const vocabulary: readonly string[] = [...headWords, ...tailWords(3000)];

/** Zipf exponent of the word distribution. */
const zipfS = 1.0;

/** Cumulative weights of the vocabulary (rank r weighs 1/(r+1)^s). */
const cumulative: Float64Array = (() => {
  const c = new Float64Array(vocabulary.length);
  let sum = 0;
  for (let r = 0; r < vocabulary.length; r++) {
    sum += 1 / (r + 1) ** zipfS;
    c[r] = sum;
  }
  return c;
})();

/** A word drawn from the Zipf-like distribution. */
export function zipfWord(rnd: () => number): string {
  const x = rnd() * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return vocabulary[lo]!;
}

/** Fixed phrases some messages hold (the phrase query looks for one; its words also occur apart). */
export const phrases = ["code freeze", "merge request", "release notes", "on call rotation"] as const;

/** Words that occur in about one message in `rareEvery` each: the rare-word query. */
export const rareWords = ["quokka", "zeppelin", "kumquat"] as const;
const rareEvery = 5000;

/** Code-like tokens, written in backticks as people do in chat. */
const codeTokens = [
  "npm run build",
  "ERR_CONNECTION_RESET",
  "useEffect()",
  "config.yaml",
  "SELECT * FROM orders",
  "k8s",
  "v2.14.3",
  "./deploy.sh",
  "0x7fff",
  "git rebase -i",
  "NullPointerException",
  "max_connections",
  "docker compose up",
  "tsc --noEmit",
];

const linkHosts = ["github.com/acme", "docs.example.com", "grafana.acme.io", "jira.acme.io/browse"];

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

/** One chat-like message text. */
export function messageText(rnd: () => number): string {
  const parts: string[] = [];
  const sentences = rnd() < 0.7 ? 1 : rnd() < 0.8 ? 2 : 3;
  for (let s = 0; s < sentences; s++) {
    const n = 3 + Math.floor(rnd() * 11);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(zipfWord(rnd));
    if (rnd() < 0.04) words.splice(Math.floor(rnd() * words.length), 0, pick(rnd, phrases));
    for (const rare of rareWords) {
      if (rnd() < 1 / rareEvery) words.splice(Math.floor(rnd() * (words.length + 1)), 0, rare);
    }
    let sentence = words.join(" ");
    sentence = sentence.charAt(0).toUpperCase() + sentence.slice(1);
    parts.push(sentence + (rnd() < 0.2 ? "?" : rnd() < 0.5 ? "." : ""));
  }
  if (rnd() < 0.08) parts.push(`\`${pick(rnd, codeTokens)}\``);
  if (rnd() < 0.06) {
    parts.push(`https://${pick(rnd, linkHosts)}/${zipfWord(rnd)}/${1 + Math.floor(rnd() * 9000)}`);
  }
  return parts.join(" ");
}

const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** An id in Colink's format (core/ids.ts: prefix, 10 characters of time, 10 random) from a PRNG. */
export function seededId(prefix: string, at: number, rnd: () => number): string {
  let time = "";
  let t = at;
  for (let i = 0; i < 10; i++) {
    time = idAlphabet[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let random = "";
  for (let i = 0; i < 10; i++) random += idAlphabet[Math.floor(rnd() * 32)];
  return prefix + time + random;
}

/** What to generate. */
export interface CorpusShape {
  messages: number;
  channels: number;
  /** Authors (users who write the messages). */
  authors: number;
  /** Of the channels, this many are public (the rest private). */
  publicChannels: number;
  /** Channels the searcher is a member of. */
  searcherChannels: number;
  seed: number;
  /** Messages are spread over [startAt, startAt + spanDays). */
  startAt: number;
  spanDays: number;
}

export interface PlannedUser {
  id: string;
  username: string;
  displayName: string;
}

export interface PlannedChannel {
  index: number;
  id: string;
  name: string;
  kind: "public" | "private";
  createdBy: string;
  createdAt: number;
  /** Authors that are members (indexes into `authors`); the first is the owner. */
  members: number[];
  /** Messages in it. */
  messages: number;
  /** Whether the searcher is a member. */
  searcherMember: boolean;
}

/** Users, channels and memberships; the messages are made per channel by `channelMessages`. */
export interface CorpusPlan {
  shape: CorpusShape;
  authors: PlannedUser[];
  channels: PlannedChannel[];
}

const dayMs = 24 * 60 * 60 * 1000;

/** Plans the corpus: who exists, which channels, who is in them, how many messages each holds. */
export function planCorpus(shape: CorpusShape): CorpusPlan {
  const rnd = prng(shape.seed);
  const authors: PlannedUser[] = Array.from({ length: shape.authors }, (_, i) => {
    const username = `user${String(i).padStart(3, "0")}`;
    return { id: seededId("U", shape.startAt - dayMs, rnd), username, displayName: `User ${i}` };
  });
  // Channel activity is skewed too: weight 1/(rank + 20) over a shuffled rank.
  const ranks = shuffle(
    Array.from({ length: shape.channels }, (_, i) => i),
    rnd,
  );
  const weights = ranks.map((r) => 1 / (r + 20));
  const total = weights.reduce((s, w) => s + w, 0);
  const spare = shape.messages - shape.channels; // every channel has at least one message
  const counts = weights.map((w) => 1 + Math.floor((w / total) * spare));
  let left = shape.messages - counts.reduce((s, n) => s + n, 0);
  for (let i = 0; left > 0; i = (i + 1) % counts.length, left--) counts[i]!++;
  // Public channels: every (channels / publicChannels)-th; the searcher's channels: a seeded
  // sample with public and private ones in the shares of the whole.
  const publicSet = new Set(
    shuffle(
      Array.from({ length: shape.channels }, (_, i) => i),
      rnd,
    ).slice(0, shape.publicChannels),
  );
  const searcherSet = new Set(
    shuffle(
      Array.from({ length: shape.channels }, (_, i) => i),
      rnd,
    ).slice(0, shape.searcherChannels),
  );
  const channels: PlannedChannel[] = [];
  for (let i = 0; i < shape.channels; i++) {
    const memberCount = 4 + Math.floor(rnd() * 12);
    const members = new Set<number>();
    while (members.size < Math.min(memberCount, shape.authors)) {
      // Busy authors are in more channels: a Zipf-like pick over the authors.
      members.add(Math.min(shape.authors - 1, Math.floor(shape.authors ** rnd()) - 1));
    }
    const memberList = [...members];
    channels.push({
      index: i,
      id: seededId("C", shape.startAt - dayMs / 2, rnd),
      name: `${vocabulary[40 + (i % 200)]}-${String(i).padStart(4, "0")}`,
      kind: publicSet.has(i) ? "public" : "private",
      createdBy: authors[memberList[0]!]!.id,
      createdAt: shape.startAt - dayMs / 2,
      members: memberList,
      messages: counts[i]!,
      searcherMember: searcherSet.has(i),
    });
  }
  return { shape, authors, channels };
}

function shuffle<T>(list: T[], rnd: () => number): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** One message of the corpus, as `newMessage` (core/message-rules.ts) would make it. */
export interface CorpusMessage {
  id: string;
  channelId: string;
  /** Its `message.created` event's seq (the channel's `channel.created` is seq 1). */
  seq: number;
  authorId: string;
  text: string;
  clientMsgId: string;
  createdAt: number;
}

/**
 * The messages of channel `c`, in seq order (seq 2…), from the channel's own PRNG, so a
 * channel's messages do not depend on the others'.
 */
export function channelMessages(plan: CorpusPlan, c: PlannedChannel): CorpusMessage[] {
  const rnd = prng(mixSeed(plan.shape.seed, c.index + 1));
  const span = plan.shape.spanDays * dayMs;
  const times = Array.from({ length: c.messages }, () => plan.shape.startAt + Math.floor(rnd() * span)).sort(
    (a, b) => a - b,
  );
  return times.map((at, i) => {
    // Within the channel the first members talk most.
    const author = c.members[Math.min(c.members.length - 1, Math.floor(c.members.length ** rnd()) - 1)]!;
    return {
      id: seededId("M", at, rnd),
      channelId: c.id,
      seq: i + 2,
      authorId: plan.authors[author]!.id,
      text: messageText(rnd),
      clientMsgId: `s8-${c.index}-${i}`,
      createdAt: at,
    };
  });
}

/** The protocol's Message (core/types.ts) of a corpus message, as its `message.created` event holds it. */
export function messageView(m: CorpusMessage): Record<string, unknown> {
  return {
    id: m.id,
    channelId: m.channelId,
    seq: m.seq,
    authorId: m.authorId,
    text: m.text,
    clientMsgId: m.clientMsgId,
    createdAt: m.createdAt,
    editedAt: null,
    deletedAt: null,
    threadRootId: null,
    replyCount: 0,
    lastReplyAt: null,
    threadParticipants: [],
    mentions: [],
    broadcast: null,
    reactions: [],
    pinnedAt: null,
    pinnedBy: null,
    files: [],
  };
}

/** The ids of the channels the searcher may read: their channels and every public one. */
export function readableChannels(plan: CorpusPlan): Set<string> {
  return new Set(plan.channels.filter((c) => c.searcherMember || c.kind === "public").map((c) => c.id));
}

/** One query of the mix. */
export interface MixQuery {
  kind: string;
  q: string;
}

const isoDay = (at: number) => new Date(at).toISOString().slice(0, 10);

/**
 * The fixed query mix: a common word, a rare word, two words, a phrase, a word with
 * `from:`, with `in:` (a private channel the searcher is in), with `has:link`, and with
 * `after:`/`before:` (a three-week window). No `is:thread`: the corpus has no threads.
 */
export function queryMix(plan: CorpusPlan): MixQuery[] {
  const inChannel =
    plan.channels.find((c) => c.searcherMember && c.kind === "private") ??
    plan.channels.find((c) => c.searcherMember)!;
  const { startAt, spanDays } = plan.shape;
  const from = isoDay(startAt + Math.floor(spanDays / 3) * dayMs);
  const to = isoDay(startAt + (Math.floor(spanDays / 3) + 22) * dayMs);
  return [
    { kind: "common", q: "deploy" },
    { kind: "rare", q: rareWords[0] },
    { kind: "two-words", q: "build failed" },
    { kind: "phrase", q: `"${phrases[0]}"` },
    { kind: "from", q: `review from:@${plan.authors[0]!.username}` },
    { kind: "in", q: `fix in:#${inChannel.name}` },
    { kind: "has-link", q: "docs has:link" },
    { kind: "date", q: `release after:${from} before:${to}` },
  ];
}

/**
 * Queries for the correctness pass only (not timed): `in:` a private channel the searcher
 * is not in, which must find nothing.
 */
export function guardQueries(plan: CorpusPlan): MixQuery[] {
  const forbidden = plan.channels.find((c) => !c.searcherMember && c.kind === "private");
  return forbidden ? [{ kind: "in-unreadable", q: `deploy in:#${forbidden.name}` }] : [];
}

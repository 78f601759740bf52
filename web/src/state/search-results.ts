/**
 * Search results as the results view holds them: the hits of the pages loaded so far, and
 * those hits grouped by channel for display (each group in the order its first hit came,
 * the hits within it in the order the server sorted them).
 */
import type { ResultOf } from "@colink/client";

/** One hit of the `search` op. */
export type SearchHit = ResultOf<"search">["hits"][number];

export interface HitGroup<H> {
  channelId: string;
  hits: H[];
}

/** Groups hits by channel, keeping the server's order. */
export function groupHitsByChannel<H extends { channelId: string }>(hits: readonly H[]): HitGroup<H>[] {
  const groups = new Map<string, HitGroup<H>>();
  for (const hit of hits) {
    const group = groups.get(hit.channelId);
    if (group) group.hits.push(hit);
    else groups.set(hit.channelId, { channelId: hit.channelId, hits: [hit] });
  }
  return [...groups.values()];
}

/** Adds a further page of hits, without doubles (a message edited between pages may come twice). */
export function appendHits<H extends { messageId: string }>(held: readonly H[], page: readonly H[]): H[] {
  const known = new Set(held.map((h) => h.messageId));
  return [...held, ...page.filter((h) => !known.has(h.messageId))];
}

/**
 * The WebSocket endpoints a client may use, e.g. one per node of a cluster, and which one
 * the next connection attempt goes to: after a failed or dropped connection the client
 * moves on, so that when its node dies it reconnects to a survivor. Rotating in order,
 * rather than picking at random, tries every node before one repeats.
 */
export class ServerList {
  /** The endpoints, in the order they are tried. */
  readonly urls: readonly string[];
  private index = 0;

  /**
   * Validates every URL now, so that a typo in the fifth one fails at construction rather
   * than on the fourth failover. Throws a TypeError on an empty list or a malformed URL.
   */
  constructor(urls: string | readonly string[]) {
    const list = typeof urls === "string" ? [urls] : [...urls];
    if (list.length === 0) throw new TypeError("no server URL given");
    for (const url of list) {
      try {
        new URL(url);
      } catch (err) {
        throw new TypeError(`invalid server URL: ${JSON.stringify(url)}`, { cause: err });
      }
    }
    this.urls = list;
  }

  /** The URL the next connection attempt uses; the first one until `next()` is called. */
  get current(): string {
    return this.urls[this.index]!;
  }

  /** Moves on to the following URL, wrapping to the first after the last, and returns it. */
  next(): string {
    this.index = (this.index + 1) % this.urls.length;
    return this.current;
  }
}

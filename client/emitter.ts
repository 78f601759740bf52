/**
 * A tiny typed event emitter that runs in browsers and Node alike (no `events` import).
 * A listener that throws does not stop the others: its error is emitted as "error"
 * (an error thrown by an "error" listener is dropped).
 */

/** Maps event names to listener argument tuples. */
export type EventMap = { [event: string]: unknown[] };

type AnyListener = (...args: never[]) => void;

/** A listener of one event. */
export type Listener<Args extends unknown[]> = (...args: Args) => void;

export class TypedEmitter<M extends EventMap> {
  private readonly listeners = new Map<keyof M, Set<AnyListener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as unknown as AnyListener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    const off = this.on(event, ((...args: M[K]) => {
      off();
      listener(...args);
    }) as Listener<M[K]>);
    return off;
  }

  /** Removes a listener (or every listener of the event when none is given). */
  off<K extends keyof M>(event: K, listener?: Listener<M[K]>): void {
    if (!listener) {
      this.listeners.delete(event);
      return;
    }
    const set = this.listeners.get(event);
    set?.delete(listener as unknown as AnyListener);
    if (set?.size === 0) this.listeners.delete(event);
  }

  /** Number of listeners of an event. */
  listenerCount(event: keyof M): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of the event, in the order they were added. */
  protected emit<K extends keyof M>(event: K, ...args: M[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as unknown as Listener<M[K]>)(...args);
      } catch (err) {
        if (event !== "error") this.reportListenerError(err);
      }
    }
  }

  private reportListenerError(err: unknown): void {
    const emitAny = this.emit as (event: string, ...args: unknown[]) => void;
    emitAny.call(this, "error", err instanceof Error ? err : new Error(String(err)));
  }
}

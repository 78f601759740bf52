/**
 * A small external store: one immutable state, changed by pure functions, read by React
 * through useSyncExternalStore (so a component re-renders only when its slice changes).
 */
import { useSyncExternalStore } from "react";

export interface Store<S> {
  get(): S;
  /** Replaces the state with `change(state)`; listeners run only if it changed. */
  update(change: (state: S) => S): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<S>(initial: S): Store<S> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    update(change) {
      const next = change(state);
      if (next === state) return;
      state = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A slice of the store's state; `select` must return a value held in the state (stable). */
export function useStoreSlice<S, T>(store: Store<S>, select: (state: S) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}

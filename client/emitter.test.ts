import { describe, expect, it } from "vitest";
import { TypedEmitter } from "./emitter.js";

type Events = { ping: [n: number]; error: [e: Error] };

class E extends TypedEmitter<Events> {
  fire<K extends keyof Events>(k: K, ...args: Events[K]) {
    this.emit(k, ...args);
  }
}

describe("TypedEmitter", () => {
  it("calls listeners in order; off and the returned function remove them", () => {
    const e = new E();
    const seen: string[] = [];
    const a = (n: number) => seen.push(`a${n}`);
    const offB = e.on("ping", (n) => seen.push(`b${n}`));
    e.on("ping", a);
    e.fire("ping", 1);
    e.off("ping", a);
    e.fire("ping", 2);
    offB();
    e.fire("ping", 3);
    expect(seen).toEqual(["b1", "a1", "b2"]);
    expect(e.listenerCount("ping")).toBe(0);
  });

  it("once fires a single time", () => {
    const e = new E();
    let n = 0;
    e.once("ping", () => n++);
    e.fire("ping", 1);
    e.fire("ping", 2);
    expect(n).toBe(1);
  });

  it("a throwing listener does not stop the others and is reported as error", () => {
    const e = new E();
    const errors: Error[] = [];
    let reached = false;
    e.on("error", (err) => errors.push(err));
    e.on("ping", () => {
      throw new Error("boom");
    });
    e.on("ping", () => {
      reached = true;
    });
    e.fire("ping", 1);
    expect(reached).toBe(true);
    expect(errors.map((x) => x.message)).toEqual(["boom"]);
  });

  it("drops an error thrown by an error listener", () => {
    const e = new E();
    e.on("error", () => {
      throw new Error("again");
    });
    expect(() => e.fire("error", new Error("x"))).not.toThrow();
  });
});

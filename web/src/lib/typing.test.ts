import { describe, expect, it } from "vitest";
import { activeTypers, applyTyping, TypingEmitter, typingLabel, TYPING_TTL_MS, type Timers } from "./typing";

class FakeTimers implements Timers {
  t = 0;
  private queue: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.queue.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.queue = this.queue.filter((q) => q.id !== h);
  };
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.queue.filter((q) => q.at <= end).sort((x, y) => x.at - y.at)[0];
      if (!due) break;
      this.queue = this.queue.filter((q) => q !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

describe("TypingEmitter", () => {
  it("emits true once per throttle window and false after idling", () => {
    const timers = new FakeTimers();
    const out: boolean[] = [];
    const e = new TypingEmitter((v) => out.push(v), 2000, 3000, timers);
    e.input();
    timers.advance(500);
    e.input();
    timers.advance(500);
    e.input();
    expect(out).toEqual([true]);
    timers.advance(1000);
    e.input(); // 2s after the first: refresh
    expect(out).toEqual([true, true]);
    timers.advance(2999);
    expect(out).toEqual([true, true]);
    timers.advance(1);
    expect(out).toEqual([true, true, false]);
  });

  it("stops at once on send and only once", () => {
    const timers = new FakeTimers();
    const out: boolean[] = [];
    const e = new TypingEmitter((v) => out.push(v), 2000, 3000, timers);
    e.stop();
    expect(out).toEqual([]);
    e.input();
    e.stop();
    e.stop();
    timers.advance(10_000);
    expect(out).toEqual([true, false]);
    e.input();
    expect(out).toEqual([true, false, true]);
  });
});

describe("others typing", () => {
  it("tracks, expires and clears typers, excluding me", () => {
    let m = applyTyping({}, "carol", true, 0);
    m = applyTyping(m, "alice", true, 1000);
    m = applyTyping(m, "bob", true, 1000);
    expect(activeTypers(m, 2000, "Bob")).toEqual(["alice", "carol"]);
    expect(activeTypers(m, TYPING_TTL_MS + 1, "bob")).toEqual(["alice"]);
    m = applyTyping(m, "alice", false, 3000);
    expect(activeTypers(m, 3000, "bob")).toEqual(["carol"]);
    expect(applyTyping(m, "nobody", false, 0)).toBe(m);
  });

  it("labels", () => {
    expect(typingLabel([])).toBe("");
    expect(typingLabel(["a"])).toBe("a is typing…");
    expect(typingLabel(["a", "b"])).toBe("a and b are typing…");
    expect(typingLabel(["a", "b", "c"])).toBe("Several people are typing…");
  });
});

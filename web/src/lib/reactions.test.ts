import { describe, expect, it } from "vitest";
import { applyReactions, reactedByMe, reactionTitle } from "./reactions";
import type { ChatMessage } from "./types";

const m = (id: string): ChatMessage => ({ id, room: "r", sender: "a", content: id, avatar: null, timestamp: "2026-11-26T18:00:00.000Z", attachments: [], editedAt: null, deleted: false, reactions: [] });

describe("reactions", () => {
  it("replaces one message's reactions and keeps the list when nothing changed", () => {
    const list = [m("1"), m("2")];
    const r = [{ emoji: "👍", count: 1, users: ["bob"] }];
    const next = applyReactions(list, "2", r);
    expect(next[1]?.reactions).toEqual(r);
    expect(next[0]).toBe(list[0]);
    expect(applyReactions(next, "2", r)).toBe(next);
    expect(applyReactions(list, "nope", r)).toBe(list);
  });

  it("knows my own reaction and says who reacted", () => {
    const r = { emoji: "🎉", count: 2, users: ["Alice", "bob"] };
    expect(reactedByMe(r, "alice")).toBe(true);
    expect(reactedByMe(r, "carol")).toBe(false);
    expect(reactionTitle(r)).toBe("Alice and bob reacted with 🎉");
    expect(reactionTitle({ emoji: "👍", count: 5, users: ["a", "b", "c", "d", "e"] })).toBe("a, b, c and 2 others reacted with 👍");
  });
});

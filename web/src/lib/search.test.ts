import { describe, expect, it } from "vitest";
import { groupByRoom, highlight } from "./search";
import type { ChatMessage, SearchResult } from "./types";

function hit(id: string, room: string, content = id): SearchResult {
  const message: ChatMessage = { id, room, sender: "a", content, avatar: null, timestamp: "2026-11-26T18:00:00.000Z", attachments: [], editedAt: null, deleted: false };
  return { message, matches: [] };
}

describe("highlight", () => {
  it("cuts content at code-point offsets, emoji counting as one", () => {
    expect(highlight("😀 CAFE au lait, café!", [[2, 6], [16, 20]])).toEqual([
      { text: "😀 ", hit: false },
      { text: "CAFE", hit: true },
      { text: " au lait, ", hit: false },
      { text: "café", hit: true },
      { text: "!", hit: false },
    ]);
  });

  it("tolerates unsorted, overlapping and out-of-range matches", () => {
    expect(highlight("abc def", [[4, 7], [0, 3], [1, 2], [6, 99]])).toEqual([
      { text: "abc", hit: true },
      { text: " ", hit: false },
      { text: "def", hit: true },
    ]);
    expect(highlight("plain", [])).toEqual([{ text: "plain", hit: false }]);
  });
});

describe("groupByRoom", () => {
  it("keeps the newest-first order within and across rooms", () => {
    const groups = groupByRoom([hit("3", "b"), hit("2", "a"), hit("1", "b")]);
    expect(groups.map((g) => [g.room, g.results.map((r) => r.message.id)])).toEqual([
      ["b", ["3", "1"]],
      ["a", ["2"]],
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { dayLabel, groupMessages } from "./grouping";
import type { ChatMessage } from "./types";

function msg(id: string, sender: string, iso: string, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { id, room: "r", sender, content: id, avatar: null, timestamp: iso, attachments: [], editedAt: null, deleted: false, ...extra };
}
const now = new Date(2026, 10, 26, 20, 0, 0);
const at = (h: number, m: number, day = 26) => new Date(2026, 10, day, h, m, 0).toISOString();
const shape = (rows: ReturnType<typeof groupMessages>) =>
  rows.map((r) => `${r.dayLabel ? `[${r.dayLabel}]` : ""}${r.message.id}${r.startsGroup ? "S" : ""}${r.endsGroup ? "E" : ""}`);

describe("groupMessages", () => {
  it("groups consecutive messages by sender, ignoring case, and labels the day", () => {
    const rows = groupMessages(
      [msg("1", "alice", at(18, 0)), msg("2", "Alice", at(18, 1)), msg("3", "bob", at(18, 2)), msg("4", "alice", at(18, 3))],
      now,
    );
    expect(shape(rows)).toEqual(["[Today]1S", "2E", "3SE", "4SE"]);
  });

  it("starts a new group after a long pause", () => {
    const rows = groupMessages([msg("1", "a", at(10, 0)), msg("2", "a", at(10, 4)), msg("3", "a", at(10, 30))], now);
    expect(shape(rows)).toEqual(["[Today]1S", "2E", "3SE"]);
  });

  it("restarts groups across days", () => {
    const rows = groupMessages([msg("1", "a", at(23, 59, 25)), msg("2", "a", at(0, 1, 26))], now);
    expect(shape(rows)).toEqual(["[Yesterday]1SE", "[Today]2SE"]);
  });

  it("keys rows by clientId so a confirmed send keeps its row", () => {
    const pending = groupMessages([msg("local:c1", "bob", at(9, 0), { clientId: "c1", pending: true })], now);
    const sent = groupMessages([msg("srv-1", "bob", at(9, 0), { clientId: "c1" })], now);
    expect(pending[0]?.key).toBe(sent[0]?.key);
    expect(groupMessages([msg("x", "bob", at(9, 0))], now)[0]?.key).toBe("x");
  });

  it("returns no rows for no messages", () => {
    expect(groupMessages([], now)).toEqual([]);
  });
});

describe("dayLabel", () => {
  it("names older days by date", () => {
    expect(dayLabel(new Date(2026, 0, 2), now)).toMatch(/2026/);
  });
});

import { describe, expect, it } from "vitest";
import type { ChatMessage } from "./types";
import { badge, countUnreadAfter, mentions, NONE, onMessage, onNotified, onRead } from "./unread";

function msg(id: string, sender: string, content = "hi", extra: Partial<ChatMessage> = {}): ChatMessage {
  return { id, room: "r", sender, content, avatar: null, timestamp: "2026-11-26T18:00:00.000Z", attachments: [], editedAt: null, deleted: false, ...extra };
}
const ctx = { me: "bob", viewing: false, known: false };

describe("mentions", () => {
  it("finds @name at word boundaries, ignoring case", () => {
    expect(mentions("hey @Bob look", "bob")).toBe(true);
    expect(mentions("@bob", "bob")).toBe(true);
    expect(mentions("@bob, see this", "bob")).toBe(true);
    expect(mentions("@bob.", "bob")).toBe(true);
    expect(mentions("@bobby", "bob")).toBe(false);
    expect(mentions("mail@bob", "bob")).toBe(false);
    expect(mentions("@b.o", "b.o")).toBe(true);
    expect(mentions("@bxo", "b.o")).toBe(false);
  });
});

describe("unread tracking", () => {
  it("counts others' messages in rooms not being viewed", () => {
    let u = onMessage(NONE, msg("1", "alice"), ctx);
    u = onMessage(u, msg("2", "alice", "@bob ping"), ctx);
    expect(u).toEqual({ count: 2, mentioned: true });
  });

  it("ignores own, viewed, duplicate and deleted messages", () => {
    expect(onMessage(NONE, msg("1", "Bob"), ctx)).toBe(NONE);
    expect(onMessage(NONE, msg("1", "alice"), { ...ctx, viewing: true })).toBe(NONE);
    expect(onMessage(NONE, msg("1", "alice"), { ...ctx, known: true })).toBe(NONE);
    expect(onMessage(NONE, msg("1", "alice", "", { deleted: true }), ctx)).toBe(NONE);
  });

  it("marks on notification and clears on read", () => {
    const u = onNotified({ count: 3, mentioned: false }, false);
    expect(u).toEqual({ count: 3, mentioned: true });
    expect(onNotified(NONE, true)).toBe(NONE);
    expect(onRead()).toEqual(NONE);
  });

  it("counts what arrived after the stored read position", () => {
    const list = [msg("01", "alice"), msg("02", "bob"), msg("03", "alice"), msg("04", "carol")];
    expect(countUnreadAfter(list, "02", "bob").count).toBe(2);
    expect(countUnreadAfter(list, "04", "bob").count).toBe(0);
    expect(countUnreadAfter(list, null, "bob").count).toBe(3);
    expect(countUnreadAfter(list, "00", "bob").count).toBe(3);
  });

  it("caps the badge", () => {
    expect(badge({ count: 5, mentioned: false })).toBe("5");
    expect(badge({ count: 120, mentioned: false })).toBe("99+");
  });
});

import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../lib/types";
import { chatReducer, initialChatState, latestAvatars, receiptsByMessage, type ChatAction, type ChatState } from "./chatState";

function msg(id: string, sender: string, second: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id, room: "general", sender, content: `m${id}`, avatar: null,
    timestamp: `2026-11-26T18:00:${String(second).padStart(2, "0")}.000Z`,
    attachments: [], editedAt: null, deleted: false, ...extra,
  };
}
const run = (s: ChatState, ...actions: ChatAction[]) => actions.reduce(chatReducer, s);
const room = (s: ChatState, name = "general") => {
  const r = s.rooms[name];
  if (!r) throw new Error(`no room ${name}`);
  return r;
};

describe("chatReducer", () => {
  it("keeps server meta, server unread counts and removal (v1.2 rooms)", () => {
    let s = initialChatState(["team"], "team");
    s = run(s, { type: "roomMeta", room: "team", meta: { private: true, topic: "Plans", owner: "alice", role: "member" } });
    expect(room(s, "team").meta).toEqual({ private: true, topic: "Plans", owner: "alice", role: "member" });
    s = run(s, { type: "roomMeta", room: "team", meta: { topic: "Ship it" } }, { type: "serverUnread", room: "team", count: 4 });
    expect(room(s, "team").meta?.topic).toBe("Ship it");
    expect(room(s, "team").meta?.private).toBe(true);
    expect(room(s, "team").unread.count).toBe(4);
    s = run(s, { type: "removed", room: "team", by: "alice" });
    expect(room(s, "team").removedBy).toBe("alice");
    expect(room(s, "team").unread.count).toBe(0);
    s = run(s, { type: "removed", room: "team", by: null }, { type: "membersChanged", room: "team" });
    expect(room(s, "team").removedBy).toBeNull();
    expect(room(s, "team").membersRev).toBe(1);
  });

  it("adds, activates and removes rooms", () => {
    let s = initialChatState(["general"], "general");
    s = run(s, { type: "addRoom", room: "dev", activate: true });
    expect(s.order).toEqual(["general", "dev"]);
    expect(s.active).toBe("dev");
    s = run(s, { type: "removeRoom", room: "dev" });
    expect(s.active).toBe("general");
    expect(run(s, { type: "activate", room: "nope" })).toBe(s);
  });

  it("counts unread only for rooms not being viewed, and clears on view or own read", () => {
    let s = run(initialChatState(["general", "dev"], "general"), { type: "firstPage", room: "dev", messages: [], hasMore: false, me: "bob", lastReadId: null, viewing: false });
    const m = { ...msg("1", "alice", 1), room: "dev" };
    s = run(s, { type: "message", message: m, me: "bob", viewing: false });
    s = run(s, { type: "message", message: m, me: "bob", viewing: false }); // duplicate delivery
    expect(room(s, "dev").unread.count).toBe(1);
    s = run(s, { type: "read", room: "dev", user: "alice", messageId: "1", me: "bob" });
    expect(room(s, "dev").unread.count).toBe(1);
    s = run(s, { type: "read", room: "dev", user: "Bob", messageId: "1", me: "bob" });
    expect(room(s, "dev").unread.count).toBe(0);
    s = run(s, { type: "message", message: { ...msg("2", "alice", 2), room: "dev" }, me: "bob", viewing: false }, { type: "viewed", room: "dev" });
    expect(room(s, "dev").unread.count).toBe(0);
  });

  it("computes unread from the stored read position on the first page", () => {
    const s = run(initialChatState(["general"]), {
      type: "firstPage", room: "general", messages: [msg("1", "alice", 1), msg("2", "alice", 2), msg("3", "alice", 3)],
      hasMore: true, me: "bob", lastReadId: "1", viewing: false,
    });
    expect(room(s).unread.count).toBe(2);
    expect(room(s).hasMore).toBe(true);
  });

  it("tracks a send from pending to sent without duplicating the echo", () => {
    let s = initialChatState(["general"]);
    const pending = msg("local:c1", "bob", 5, { clientId: "c1", pending: true });
    s = run(s, { type: "sendStart", message: pending });
    expect(s.sends.c1?.status).toBe("sending");
    const stored = msg("srv1", "bob", 5, { clientId: "c1" });
    // The room broadcast can beat the ack.
    s = run(s, { type: "message", message: stored, me: "bob", viewing: true }, { type: "sendAck", clientId: "c1", message: stored });
    expect(room(s).messages.map((m) => m.id)).toEqual(["srv1"]);
    expect(s.sends.c1?.status).toBe("sent");
  });

  it("fails, retries and discards a send", () => {
    let s = run(initialChatState(["general"]), { type: "sendStart", message: msg("local:c2", "bob", 5, { clientId: "c2", pending: true }) });
    s = run(s, { type: "sendFail", clientId: "c2", error: "offline" });
    expect(s.sends.c2).toEqual({ status: "failed", attempts: 1, error: "offline" });
    s = run(s, { type: "sendRetry", clientId: "c2" });
    expect(s.sends.c2?.status).toBe("sending");
    s = run(s, { type: "sendFail", clientId: "c2", error: "x" }, { type: "sendDiscard", room: "general", clientId: "c2" });
    expect(room(s).messages).toEqual([]);
    expect(s.sends.c2).toBeUndefined();
  });

  it("applies edits, deletes, older pages and reconnect pages", () => {
    let s = run(initialChatState(["general"]), { type: "firstPage", room: "general", messages: [msg("3", "a", 3), msg("4", "a", 4)], hasMore: true, me: "bob", lastReadId: "4", viewing: false });
    s = run(s, { type: "edited", message: msg("3", "a", 3, { content: "new", editedAt: "t" }) }, { type: "deleted", room: "general", id: "4" });
    expect(room(s).messages.map((m) => [m.content, m.deleted])).toEqual([["new", false], ["", true]]);
    s = run(s, { type: "loadingOlder", room: "general", loading: true }, { type: "page", room: "general", messages: [msg("1", "a", 1), msg("2", "a", 2)], hasMore: false, older: true });
    expect(room(s).messages.map((m) => m.id)).toEqual(["1", "2", "3", "4"]);
    expect(room(s).hasMore).toBe(false);
    expect(room(s).loadingOlder).toBe(false);
    // A catch-up page says nothing about older history, and counts what is new.
    s = run(s, { type: "page", room: "general", messages: [msg("4", "a", 4), msg("5", "a", 5)], hasMore: true, unreadFor: { me: "bob", viewing: false } });
    expect(room(s).hasMore).toBe(false);
    expect(room(s).unread.count).toBe(1);
  });

  it("applies messageReactions, keeps a reply draft per room, and opens history around a message", () => {
    let s = run(initialChatState(["general", "other"]), { type: "firstPage", room: "general", messages: [msg("3", "a", 3), msg("4", "a", 4)], hasMore: false, me: "bob", lastReadId: "4", viewing: true });
    const reactions = [{ emoji: "👍", count: 1, users: ["bob"] }];
    s = run(s, { type: "reactions", room: "general", id: "3", reactions });
    expect(room(s).messages[0]?.reactions).toEqual(reactions);
    const before = s;
    expect(run(s, { type: "reactions", room: "general", id: "3", reactions: [...reactions] })).toBe(before);
    // A later history page with the same reactions keeps the same objects.
    expect(run(s, { type: "page", room: "general", messages: [{ ...msg("3", "a", 3), reactions }] })).toBe(before);

    const original = room(s).messages[1];
    if (!original) throw new Error("missing");
    s = run(s, { type: "replyTo", room: "general", message: original });
    expect(room(s).replyingTo?.id).toBe("4");
    expect(room(s, "other").replyingTo).toBeNull();
    // The original deleted: the draft no longer answers it.
    s = run(s, { type: "deleted", room: "general", id: "4" });
    expect(room(s).replyingTo).toBeNull();

    s = run(s, { type: "around", room: "general", messages: [msg("1", "a", 1), msg("2", "a", 2)], hasMore: true, focus: "2" });
    expect(room(s).messages.map((m) => m.id)).toEqual(["1", "2"]);
    expect([room(s).hasMore, room(s).focus]).toEqual([true, "2"]);
    s = run(s, { type: "focus", room: "general", id: null });
    expect(room(s).focus).toBeNull();
  });

  it("tracks typing, presence and leaving", () => {
    let s = run(initialChatState(["general"]), { type: "presence", room: "general", users: ["bob", "alice", "bob"] });
    expect(room(s).online).toEqual(["alice", "bob"]);
    s = run(s, { type: "joined", room: "general", user: "carol" }, { type: "typing", room: "general", user: "carol", typing: true, now: 0 });
    expect(Object.keys(room(s).typing)).toEqual(["carol"]);
    s = run(s, { type: "left", room: "general", user: "carol" });
    expect(room(s).online).toEqual(["alice", "bob"]);
    expect(room(s).typing).toEqual({});
    s = run(s, { type: "typing", room: "general", user: "alice", typing: true, now: 0 }, { type: "message", message: msg("9", "alice", 9), me: "bob", viewing: true });
    expect(room(s).typing).toEqual({});
  });

  it("ignores events for rooms it does not hold", () => {
    const s = initialChatState(["general"]);
    expect(run(s, { type: "message", message: { ...msg("1", "a", 1), room: "elsewhere" }, me: "bob", viewing: false })).toBe(s);
  });
});

describe("receipts", () => {
  it("shows each reader on the newest message someone else wrote", () => {
    const list = [msg("1", "alice", 1), msg("2", "alice", 2), msg("3", "bob", 3), msg("4", "bob", 4)];
    const r = receiptsByMessage(list, { bob: "4", carol: "2", alice: "4", me: "4" }, "me");
    expect(r.get("2")).toEqual(["bob", "carol"]);
    expect(r.get("4")).toEqual(["alice"]);
    expect(r.has("3")).toBe(false);
  });

  it("finds the newest avatar per sender", () => {
    const list = [msg("1", "Alice", 1, { avatar: "old" }), msg("2", "alice", 2, { avatar: "new" }), msg("3", "bob", 3)];
    expect([...latestAvatars(list)]).toEqual([["alice", "new"]]);
  });
});

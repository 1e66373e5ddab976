import { describe, expect, it } from "vitest";
import {
  firstConfirmedId,
  lastConfirmedId,
  markDeleted,
  mergeMessages,
  removePending,
  replaceMessage,
  upsertPending,
} from "./merge";
import type { ChatMessage } from "./types";

function msg(id: string, second: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id,
    room: "general",
    sender: "alice",
    content: `m${id}`,
    avatar: null,
    timestamp: `2026-11-26T18:00:${String(second).padStart(2, "0")}.000Z`,
    attachments: [],
    editedAt: null,
    deleted: false,
    ...extra,
  };
}
const ids = (list: ChatMessage[]) => list.map((m) => m.id);

describe("mergeMessages", () => {
  it("sorts by timestamp then id and drops duplicates", () => {
    const a = [msg("1", 1), msg("3", 3)];
    const merged = mergeMessages(a, [msg("2", 2), msg("3", 3), msg("0b", 3), msg("0a", 3)]);
    expect(ids(merged)).toEqual(["1", "2", "0a", "0b", "3"]);
  });

  it("returns the same array when nothing new arrives (reconnect replay)", () => {
    const a = [msg("1", 1), msg("2", 2)];
    expect(mergeMessages(a, [msg("1", 1), msg("2", 2)])).toBe(a);
    expect(mergeMessages(a, [])).toBe(a);
  });

  it("keeps unchanged message objects identical and takes changed ones", () => {
    const one = msg("1", 1);
    const merged = mergeMessages([one, msg("2", 2)], [msg("1", 1), msg("2", 2, { content: "edited", editedAt: "x" })]);
    expect(merged[0]).toBe(one);
    expect(merged[1]?.content).toBe("edited");
  });

  it("catch-up after a reconnect fills the gap without duplicates", () => {
    const before = [msg("1", 1), msg("2", 2)];
    const latestPage = [msg("4", 4), msg("5", 5)];
    const afterPage = [msg("3", 3), msg("4", 4)];
    const merged = mergeMessages(mergeMessages(before, latestPage), afterPage);
    expect(ids(merged)).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("replaces a pending send once its clientId comes back, keeping other pendings last", () => {
    const pendA = msg("local:c1", 9, { pending: true, clientId: "c1" });
    const pendB = msg("local:c2", 9, { pending: true, clientId: "c2" });
    const list = [msg("1", 1), pendA, pendB];
    const merged = mergeMessages(list, [msg("7", 7, { clientId: "c1" }), msg("8", 8)]);
    expect(ids(merged)).toEqual(["1", "7", "8", "local:c2"]);
  });

  it("does not drop someone else's pending send with the same clientId", () => {
    const mine = msg("local:c1", 9, { pending: true, clientId: "c1", sender: "bob" });
    const merged = mergeMessages([mine], [msg("7", 7, { clientId: "c1", sender: "alice" })]);
    expect(ids(merged)).toEqual(["7", "local:c1"]);
  });
});

describe("edits, deletes and pending", () => {
  it("replaces known messages and ignores unknown ids", () => {
    const list = [msg("1", 1)];
    expect(replaceMessage(list, msg("9", 9))).toBe(list);
    expect(replaceMessage(list, msg("1", 1, { content: "new" }))[0]?.content).toBe("new");
  });

  it("marks deleted once, clearing content and attachments", () => {
    const list = [msg("1", 1, { attachments: [{ id: "a", url: "u", contentType: "image/png", size: 1, name: "n" }] })];
    const once = markDeleted(list, "1");
    expect(once[0]).toMatchObject({ deleted: true, content: "", attachments: [] });
    expect(markDeleted(once, "1")).toBe(once);
    expect(markDeleted(list, "nope")).toBe(list);
  });

  it("upserts and removes pending by clientId", () => {
    const p = msg("local:c1", 5, { pending: true, clientId: "c1" });
    const list = upsertPending([msg("1", 1)], p);
    expect(ids(list)).toEqual(["1", "local:c1"]);
    const again = upsertPending(list, { ...p, content: "retry" });
    expect(again).toHaveLength(2);
    expect(again[1]?.content).toBe("retry");
    expect(ids(removePending(again, "c1"))).toEqual(["1"]);
  });

  it("finds cursors, skipping pending sends", () => {
    const list = [msg("1", 1), msg("2", 2), msg("local:c", 3, { pending: true, clientId: "c" })];
    expect(firstConfirmedId(list)).toBe("1");
    expect(lastConfirmedId(list)).toBe("2");
    expect(lastConfirmedId([])).toBeNull();
  });
});

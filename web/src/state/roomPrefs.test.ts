import { describe, expect, it } from "vitest";
import { loadRoomPrefs, saveRoomPrefs } from "./roomPrefs";

class MemoryStorage {
  map = new Map<string, string>();
  getItem = (k: string) => this.map.get(k) ?? null;
  setItem = (k: string, v: string) => void this.map.set(k, v);
}

describe("room prefs", () => {
  it("starts new users in general", () => {
    expect(loadRoomPrefs(new MemoryStorage(), "bob")).toEqual({ order: ["general"], active: "general", lastRead: {} });
  });

  it("round-trips per user, ignoring the case of the name", () => {
    const st = new MemoryStorage();
    saveRoomPrefs(st, "Bob", { order: ["general", "dm:alice:bob"], active: "dm:alice:bob", lastRead: { general: "m1" } });
    expect(loadRoomPrefs(st, "bob")).toEqual({ order: ["general", "dm:alice:bob"], active: "dm:alice:bob", lastRead: { general: "m1" } });
    expect(loadRoomPrefs(st, "alice").order).toEqual(["general"]);
  });

  it("survives corrupt data", () => {
    const st = new MemoryStorage();
    st.setItem("chat.rooms.bob", "{oops");
    expect(loadRoomPrefs(st, "bob").order).toEqual(["general"]);
    st.setItem("chat.rooms.bob", JSON.stringify({ order: ["a", 3], active: 7 }));
    expect(loadRoomPrefs(st, "bob")).toEqual({ order: ["a"], active: "a", lastRead: {} });
  });
});

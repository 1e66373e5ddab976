import { describe, expect, it } from "vitest";
import { dmPeer, dmRoomName, isDmRoom, parseRoomInput, parseUsernameInput, roomLabel } from "./rooms";

describe("dmRoomName", () => {
  it("lower-cases and sorts both names", () => {
    expect(dmRoomName("Bob", "alice")).toBe("dm:alice:bob");
    expect(dmRoomName("alice", "Bob")).toBe("dm:alice:bob");
  });
  it("sorts by code unit, so digits and punctuation come first", () => {
    expect(dmRoomName("zed", "a.b")).toBe("dm:a.b:zed");
    expect(dmRoomName("user_2", "user-1")).toBe("dm:user-1:user_2");
  });
  it("refuses the same user twice, ignoring case", () => {
    expect(() => dmRoomName("Al", "al")).toThrow();
  });
});

describe("dm helpers", () => {
  it("finds the peer from either side", () => {
    expect(dmPeer("dm:alice:bob", "Alice")).toBe("bob");
    expect(dmPeer("dm:alice:bob", "bob")).toBe("alice");
    expect(dmPeer("general", "bob")).toBeNull();
    expect(isDmRoom("dm:a:b")).toBe(true);
    expect(isDmRoom("general")).toBe(false);
  });
  it("labels rooms", () => {
    expect(roomLabel("general", "bob")).toBe("#general");
    expect(roomLabel("dm:alice:bob", "bob")).toBe("alice");
  });
});

describe("input parsing", () => {
  it("accepts a room name with an optional #", () => {
    expect(parseRoomInput("  #dev-ops ")).toEqual({ room: "dev-ops" });
  });
  it("rejects empty and invalid room names", () => {
    expect(parseRoomInput("   ")).toHaveProperty("error");
    expect(parseRoomInput("has space")).toHaveProperty("error");
    expect(parseRoomInput("x".repeat(65))).toHaveProperty("error");
  });
  it("turns a username into a DM room and refuses yourself", () => {
    expect(parseUsernameInput("@Carol", "bob")).toEqual({ room: "dm:bob:carol" });
    expect(parseUsernameInput("BOB", "bob")).toHaveProperty("error");
    expect(parseUsernameInput("a", "bob")).toHaveProperty("error");
  });
});

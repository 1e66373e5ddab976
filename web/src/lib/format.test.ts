import { describe, expect, it } from "vitest";
import { formatSize, hueFor, initials } from "./format";

describe("format", () => {
  it("sizes", () => {
    expect(formatSize(12)).toBe("12 B");
    expect(formatSize(2048)).toBe("2.0 KB");
    expect(formatSize(3 * 1024 * 1024)).toBe("3.0 MB");
  });
  it("initials", () => {
    expect(initials("alice")).toBe("AL");
    expect(initials("mary.jane")).toBe("MJ");
    expect(initials("alice_1f7jg")).toBe("AL");
    expect(initials("x")).toBe("X");
  });
  it("hue is stable and case-insensitive", () => {
    expect(hueFor("Bob")).toBe(hueFor("bob"));
    expect(hueFor("bob")).toBeGreaterThanOrEqual(0);
    expect(hueFor("bob")).toBeLessThan(360);
  });
});

import { describe, expect, it } from "vitest";
import { jwtExpiry, loadSession, refreshDelay, saveSession, SESSION_KEY, type Session } from "./session";

function jwt(claims: object): string {
  const enc = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${enc({ alg: "EdDSA", typ: "JWT" })}.${enc(claims)}.sig`;
}

class MemoryStorage {
  map = new Map<string, string>();
  getItem = (k: string) => this.map.get(k) ?? null;
  setItem = (k: string, v: string) => void this.map.set(k, v);
  removeItem = (k: string) => void this.map.delete(k);
}

describe("token expiry", () => {
  it("reads exp from a JWT", () => {
    expect(jwtExpiry(jwt({ sub: "x", exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(jwtExpiry("garbage")).toBeNull();
    expect(jwtExpiry("a.!!!.c")).toBeNull();
    expect(jwtExpiry(jwt({ sub: "x" }))).toBeNull();
  });

  it("refreshes a minute before a 15-minute token expires", () => {
    const now = 1_000_000_000_000;
    const token = jwt({ exp: (now + 15 * 60_000) / 1000 });
    expect(refreshDelay(token, now)).toBe(14 * 60_000);
  });

  it("refreshes early for short tokens and at once for expired ones", () => {
    const now = 1_000_000_000_000;
    expect(refreshDelay(jwt({ exp: (now + 30_000) / 1000 }), now)).toBe(24_000);
    expect(refreshDelay(jwt({ exp: (now + 100_000) / 1000 }), now)).toBe(80_000);
    expect(refreshDelay(jwt({ exp: (now - 1000) / 1000 }), now)).toBe(0);
    expect(refreshDelay("opaque", now, 1234)).toBe(1234);
  });
});

describe("session storage", () => {
  it("round-trips and clears", () => {
    const st = new MemoryStorage();
    const s: Session = { token: "t", refreshToken: "r", user: { id: "1", username: "bob", avatar: null } };
    saveSession(st, s);
    expect(loadSession(st)).toEqual(s);
    saveSession(st, null);
    expect(loadSession(st)).toBeNull();
  });

  it("ignores corrupt or foreign data", () => {
    const st = new MemoryStorage();
    st.setItem(SESSION_KEY, "{not json");
    expect(loadSession(st)).toBeNull();
    st.setItem(SESSION_KEY, JSON.stringify({ token: 1 }));
    expect(loadSession(st)).toBeNull();
  });
});

// The stored session (tokens + user) and when to refresh the access token.

import type { User } from "./types";

export interface Session {
  token: string;
  refreshToken: string;
  user: User;
}

export const SESSION_KEY = "chat.session";

function b64urlDecode(s: string): string {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
  return atob(b64);
}

/** The `exp` of a JWT in ms since the epoch, or null when unreadable. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(b64urlDecode(payload));
    if (typeof claims === "object" && claims !== null && "exp" in claims && typeof claims.exp === "number") {
      return claims.exp * 1000;
    }
  } catch {
    // Not a JWT we can read: treat as unknown expiry.
  }
  return null;
}

/**
 * Milliseconds to wait before refreshing: a minute before expiry, or at 80%
 * of the remaining life when under five minutes are left; a fallback when the
 * expiry is unknown.
 */
export function refreshDelay(token: string, now: number, fallbackMs = 5 * 60_000): number {
  const exp = jwtExpiry(token);
  if (exp === null) return fallbackMs;
  const left = exp - now;
  if (left <= 0) return 0;
  return left > 5 * 60_000 ? left - 60_000 : Math.floor(left * 0.8);
}

function isSession(v: unknown): v is Session {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  const u = s.user as Record<string, unknown> | undefined;
  return typeof s.token === "string" && typeof s.refreshToken === "string" && typeof u?.username === "string";
}

export function loadSession(storage: Pick<Storage, "getItem">): Session | null {
  const raw = storage.getItem(SESSION_KEY);
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isSession(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function saveSession(storage: Pick<Storage, "setItem" | "removeItem">, s: Session | null): void {
  if (s) storage.setItem(SESSION_KEY, JSON.stringify(s));
  else storage.removeItem(SESSION_KEY);
}

import { describe, expect, it } from "vitest";
import { isRecoverable, parseEndReason, signedOutMessage } from "./signedOut";

describe("sessionEnded reasons", () => {
  it("reads every reason of the contract", () => {
    for (const r of ["logout", "password", "revoked", "replayed", "expired"]) expect(parseEndReason({ reason: r })).toBe(r);
  });

  it("treats a missing or unknown reason as a plain end, never as recoverable", () => {
    for (const p of [undefined, null, "password", {}, { reason: 7 }, { reason: "__proto__" }]) {
      expect(parseEndReason(p)).toBe("ended");
      expect(isRecoverable(parseEndReason(p))).toBe(false);
    }
  });

  it("recovers quietly only from an expired access token", () => {
    expect(isRecoverable("expired")).toBe(true);
    for (const r of ["logout", "password", "revoked", "replayed", "ended"] as const) expect(isRecoverable(r)).toBe(false);
  });

  it("tells a password change apart from a remote sign-out", () => {
    expect(signedOutMessage("password")).toMatch(/password was changed/);
    expect(signedOutMessage("revoked")).toMatch(/signed out from another/);
  });
});

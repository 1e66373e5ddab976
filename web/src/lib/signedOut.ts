// Why the app is showing the sign-in screen to someone who was signed in:
// the server's `sessionEnded` reasons (PROTOCOL.md § Sessions) plus a
// refresh that the server refused, each told in words a user acts on.

export type EndReason = "logout" | "password" | "revoked" | "replayed" | "expired" | "ended";

const REASONS: readonly EndReason[] = ["logout", "password", "revoked", "replayed", "expired", "ended"];

/** A `sessionEnded` payload's reason; anything unknown counts as "ended". */
export function parseEndReason(payload: unknown): EndReason {
  const r = typeof payload === "object" && payload !== null ? (payload as { reason?: unknown }).reason : undefined;
  return typeof r === "string" && (REASONS as readonly string[]).includes(r) ? (r as EndReason) : "ended";
}

/**
 * Whether the app may quietly get a new token and carry on: only an access
 * token that ran out ("expired") is; every other reason means the session
 * itself is over and the user must sign in again.
 */
export function isRecoverable(reason: EndReason): boolean {
  return reason === "expired";
}

export function signedOutMessage(reason: EndReason): string {
  switch (reason) {
    case "logout":
      return "You logged out of this session in another tab or window.";
    case "password":
      return "Your password was changed, so this device was signed out. Log in with the new password.";
    case "revoked":
      return "This device was signed out from another one (“Where you’re signed in”).";
    case "replayed":
      return "This session was ended to protect your account: its sign-in was used twice. Log in again, and consider changing your password.";
    case "expired":
    case "ended":
      return "Your session has ended. Log in again to continue.";
  }
}

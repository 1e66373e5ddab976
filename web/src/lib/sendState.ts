// The visible life of one outgoing message: sending → sent, or sending →
// failed → (retry) sending. The clientId stays the same across retries so the
// server stores the message at most once.

export type SendState =
  | { status: "sending"; attempts: number }
  | { status: "sent"; attempts: number }
  | { status: "failed"; attempts: number; error: string };

export type SendEvent = { type: "send" } | { type: "ack" } | { type: "fail"; error: string } | { type: "retry" };

/** Errors where sending the same thing again cannot succeed. */
const PERMANENT = new Set(["INVALID_INPUT", "FORBIDDEN", "NOT_FOUND", "PAYLOAD_TOO_LARGE"]);

export function isRetryable(code: string): boolean {
  return !PERMANENT.has(code);
}

export function nextSendState(state: SendState | undefined, event: SendEvent): SendState | undefined {
  switch (event.type) {
    case "send":
      return state ?? { status: "sending", attempts: 1 };
    case "ack":
      // A late ack after a timeout still means the server stored it.
      return state ? { status: "sent", attempts: state.attempts } : undefined;
    case "fail":
      return state?.status === "sending" ? { status: "failed", attempts: state.attempts, error: event.error } : state;
    case "retry":
      return state?.status === "failed" ? { status: "sending", attempts: state.attempts + 1 } : state;
  }
}

let counter = 0;

/** A client id unique per user: time, a counter and randomness. */
export function newClientId(): string {
  counter = (counter + 1) % 1_000_000;
  const rand = Math.random().toString(36).slice(2, 10);
  return `c-${Date.now().toString(36)}-${counter.toString(36)}-${rand}`;
}

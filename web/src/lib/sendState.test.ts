import { describe, expect, it } from "vitest";
import { isRetryable, newClientId, nextSendState, type SendState } from "./sendState";

describe("send state machine", () => {
  it("goes sending → sent", () => {
    const s = nextSendState(undefined, { type: "send" });
    expect(s).toEqual({ status: "sending", attempts: 1 });
    expect(nextSendState(s, { type: "ack" })).toEqual({ status: "sent", attempts: 1 });
  });

  it("goes sending → failed → sending on retry, counting attempts", () => {
    let s = nextSendState(undefined, { type: "send" });
    s = nextSendState(s, { type: "fail", error: "Timed out" });
    expect(s).toEqual({ status: "failed", attempts: 1, error: "Timed out" });
    s = nextSendState(s, { type: "retry" });
    expect(s).toEqual({ status: "sending", attempts: 2 });
    expect(nextSendState(s, { type: "ack" })).toEqual({ status: "sent", attempts: 2 });
  });

  it("ignores a retry unless failed and a failure once sent", () => {
    const sending: SendState = { status: "sending", attempts: 1 };
    expect(nextSendState(sending, { type: "retry" })).toBe(sending);
    const sent: SendState = { status: "sent", attempts: 1 };
    expect(nextSendState(sent, { type: "fail", error: "late" })).toBe(sent);
  });

  it("accepts a late ack after a failure", () => {
    expect(nextSendState({ status: "failed", attempts: 1, error: "t" }, { type: "ack" })).toEqual({ status: "sent", attempts: 1 });
  });

  it("does not restart an existing send", () => {
    const sent: SendState = { status: "sent", attempts: 1 };
    expect(nextSendState(sent, { type: "send" })).toBe(sent);
  });

  it("tells retryable errors apart", () => {
    expect(isRetryable("UNAVAILABLE")).toBe(true);
    expect(isRetryable("RATE_LIMITED")).toBe(true);
    expect(isRetryable("TIMEOUT")).toBe(true);
    expect(isRetryable("INVALID_INPUT")).toBe(false);
  });

  it("makes distinct client ids", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newClientId()));
    expect(seen.size).toBe(1000);
  });
});

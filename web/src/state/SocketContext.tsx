// The one Socket.IO connection of the app: `/chat` for chat events and
// `/notifications`, multiplexed over one Engine.IO connection, with a
// connection status for the banner and a promise-based ack helper.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { io, type Socket } from "socket.io-client";
import { isRecoverable, parseEndReason, type EndReason } from "../lib/signedOut";
import type { AckReply } from "../lib/types";
import { useAuth } from "./AuthContext";

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline";

interface SocketValue {
  chat: Socket | null;
  notifications: Socket | null;
  status: ConnectionStatus;
  /** Goes up by one on every (re)connect of `/chat`: rooms are re-joined on change. */
  generation: number;
  /** Emits with an ack; a timeout or a disconnected socket resolves as a failure reply. */
  request<T extends object>(event: string, payload: unknown, timeoutMs?: number): Promise<AckReply<T>>;
}

const SocketContext = createContext<SocketValue | null>(null);

const AUTH_ERRORS = new Set(["Authentication error", "No token provided"]);

function offlineReply(message: string, code = "UNAVAILABLE") {
  return { ok: false as const, error: { code, message } };
}

export function SocketProvider({ children }: { children: ReactNode }) {
  const { session, getToken, refreshNow, sessionEnded } = useAuth();
  const userId = session?.user.id ?? null;
  const [chat, setChat] = useState<Socket | null>(null);
  const [notifications, setNotifications] = useState<Socket | null>(null);
  const [status, setStatus] = useState<ConnectionStatus>("connecting");
  const [generation, setGeneration] = useState(0);
  const chatRef = useRef<Socket | null>(null);
  const notificationsRef = useRef<Socket | null>(null);
  const token = session?.token ?? null;

  // A socket lives no longer than the token it connected with (PROTOCOL.md
  // § Sessions): hand every connected socket each refreshed token, so it is
  // not ended as "expired" and reconnected.
  useEffect(() => {
    if (!token) return;
    for (const s of [chatRef.current, notificationsRef.current]) {
      if (s?.connected) s.emit("renewToken", { token }, () => {});
    }
  }, [token]);

  useEffect(() => {
    if (!userId) return;
    const auth = (cb: (data: object) => void) => cb({ token: getToken() });
    const c = io("/chat", { auth });
    const n = io("/notifications", { auth });
    chatRef.current = c;
    notificationsRef.current = n;
    setChat(c);
    setNotifications(n);
    setStatus("connecting");

    let everConnected = false;
    const lost = () => setStatus(navigator.onLine ? (everConnected ? "reconnecting" : "connecting") : "offline");

    // `sessionEnded` comes just before the server's disconnect. Only an
    // expired access token is worth a refresh and a reconnect; any other
    // reason means this session is over, and the app signs out saying why.
    let ended: EndReason | null = null;
    const onSessionEnded = (payload: unknown) => {
      const reason = parseEndReason(payload);
      if (isRecoverable(reason)) return;
      ended = reason;
      sessionEnded(reason);
    };
    const reconnectAfterServerDisconnect = (s: Socket) => (reason: Socket.DisconnectReason) => {
      if (reason === "io server disconnect" && ended === null) void refreshNow().then((t) => t && s.connect());
    };
    c.on("sessionEnded", onSessionEnded);
    n.on("sessionEnded", onSessionEnded);

    // A refused handshake is not retried by the client: refresh and try again.
    const onConnectError = (s: Socket) => async (err: Error) => {
      if (AUTH_ERRORS.has(err.message)) {
        const token = await refreshNow();
        if (token) setTimeout(() => s.connect(), 250);
        return;
      }
      lost();
    };
    c.on("connect", () => {
      everConnected = true;
      setStatus("connected");
      setGeneration((g) => g + 1);
    });
    c.on("disconnect", lost);
    c.on("disconnect", reconnectAfterServerDisconnect(c));
    n.on("disconnect", reconnectAfterServerDisconnect(n));
    c.on("connect_error", onConnectError(c));
    n.on("connect_error", onConnectError(n));
    c.io.on("reconnect_attempt", lost);

    const onOffline = () => setStatus("offline");
    const onOnline = () => {
      if (c.connected) return;
      setStatus("reconnecting");
      c.connect();
      n.connect();
    };
    window.addEventListener("offline", onOffline);
    window.addEventListener("online", onOnline);
    return () => {
      window.removeEventListener("offline", onOffline);
      window.removeEventListener("online", onOnline);
      c.removeAllListeners();
      n.removeAllListeners();
      c.io.off("reconnect_attempt", lost);
      c.disconnect();
      n.disconnect();
      chatRef.current = null;
      notificationsRef.current = null;
      setChat(null);
      setNotifications(null);
    };
  }, [userId, getToken, refreshNow, sessionEnded]);

  const request = useCallback(<T extends object>(event: string, payload: unknown, timeoutMs = 10_000): Promise<AckReply<T>> => {
    const s = chatRef.current;
    if (!s || !s.connected) return Promise.resolve(offlineReply("You are offline; try again once reconnected."));
    return s
      .timeout(timeoutMs)
      .emitWithAck(event, payload)
      .then((reply: AckReply<T>) => reply)
      .catch(() => offlineReply("The server did not answer in time.", "TIMEOUT"));
  }, []);

  const value = useMemo(() => ({ chat, notifications, status, generation, request }), [chat, notifications, status, generation, request]);
  return <SocketContext.Provider value={value}>{children}</SocketContext.Provider>;
}

export function useSocket(): SocketValue {
  const v = useContext(SocketContext);
  if (!v) throw new Error("useSocket outside SocketProvider");
  return v;
}

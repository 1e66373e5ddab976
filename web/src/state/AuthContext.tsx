// The signed-in session: stored in localStorage so a reload keeps it,
// refreshed before the access token expires, shared across tabs. When the
// server ends it (PROTOCOL.md § Sessions) the app returns to the sign-in
// screen and says why (`signedOut`).

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import * as api from "../api/http";
import { loadSession, refreshDelay, saveSession, SESSION_KEY, type Session } from "../lib/session";
import type { EndReason } from "../lib/signedOut";
import type { User } from "../lib/types";

interface AuthValue {
  session: Session | null;
  /** Why the last session ended without the user logging out here; null otherwise. */
  signedOut: EndReason | null;
  login(username: string, password: string): Promise<void>;
  register(username: string, password: string): Promise<void>;
  /** Ends this session, or with `everywhere` every session of the user. */
  logout(everywhere?: boolean): Promise<void>;
  /** The server ended this session (`sessionEnded`): forget it and say why. */
  sessionEnded(reason: EndReason): void;
  /** `POST /password`; every other session of the user ends. */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  /** The current access token (read at call time, so reconnects use the newest). */
  getToken(): string | null;
  /** Refreshes now, at most once at a time; resolves to the new token or null. */
  refreshNow(): Promise<string | null>;
  /** Calls `f` with the token, refreshing once and retrying on a 401. */
  withToken<T>(f: (token: string) => Promise<T>): Promise<T>;
  updateUser(user: User): void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSessionState] = useState<Session | null>(() => loadSession(localStorage));
  const [signedOut, setSignedOut] = useState<EndReason | null>(null);
  const ref = useRef(session);
  const inflight = useRef<Promise<string | null> | null>(null);

  const setSession = useCallback((s: Session | null) => {
    ref.current = s;
    saveSession(localStorage, s);
    setSessionState(s);
  }, []);

  const refreshNow = useCallback((): Promise<string | null> => {
    if (inflight.current) return inflight.current;
    const run = async (): Promise<string | null> => {
      const current = ref.current;
      if (!current) return null;
      try {
        const t = await api.refresh(current.refreshToken);
        const next = { ...current, ...t };
        setSession(next);
        return next.token;
      } catch (e) {
        if (e instanceof api.HttpError && e.status === 401) {
          // Refresh tokens are single use: another tab may have just used it.
          const stored = loadSession(localStorage);
          if (stored && stored.refreshToken !== current.refreshToken && stored.user.id === current.user.id) {
            setSession(stored);
            return stored.token;
          }
          // The server no longer knows this session (ended elsewhere while
          // this tab slept, or past its lifetime). Keep a reason already given.
          setSignedOut((r) => r ?? "ended");
          setSession(null);
        }
        return null;
      }
    };
    const p = run().finally(() => {
      inflight.current = null;
    });
    inflight.current = p;
    return p;
  }, [setSession]);

  // Refresh ahead of expiry; a failed network attempt retries shortly after.
  useEffect(() => {
    if (!session) return;
    let timer: ReturnType<typeof setTimeout>;
    const schedule = (ms: number) => {
      timer = setTimeout(async () => {
        const token = await refreshNow();
        if (token === null && ref.current) schedule(10_000);
      }, ms);
    };
    schedule(refreshDelay(session.token, Date.now()));
    return () => clearTimeout(timer);
  }, [session, refreshNow]);

  // Timers stall while a laptop sleeps: check again when the tab comes back.
  useEffect(() => {
    const onVisible = () => {
      const s = ref.current;
      if (document.visibilityState === "visible" && s && refreshDelay(s.token, Date.now()) === 0) void refreshNow();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [refreshNow]);

  // Log in / out / refresh in another tab applies here too.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key !== SESSION_KEY) return;
      const s = loadSession(localStorage);
      ref.current = s;
      setSessionState(s);
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);

  // Stable, like getToken: the sockets' effect depends on it.
  const sessionEnded = useCallback(
    (reason: EndReason) => {
      setSignedOut(reason);
      setSession(null);
    },
    [setSession],
  );

  // Stable across refreshes, so the socket (which reads the token on each
  // handshake) is not torn down whenever the token changes.
  const getToken = useCallback(() => ref.current?.token ?? null, []);
  const withToken = useCallback(
    async <T,>(f: (token: string) => Promise<T>): Promise<T> => {
      const token = ref.current?.token;
      if (!token) throw new api.HttpError(401, "You are signed out.");
      try {
        return await f(token);
      } catch (e) {
        if (!(e instanceof api.HttpError) || e.status !== 401) throw e;
        const fresh = await refreshNow();
        if (!fresh) throw e;
        return f(fresh);
      }
    },
    [refreshNow],
  );

  const value = useMemo<AuthValue>(
    () => ({
      session,
      signedOut,
      async login(username, password) {
        setSession(await api.login(username, password));
        setSignedOut(null);
      },
      async register(username, password) {
        setSession(await api.register(username, password));
        setSignedOut(null);
      },
      async logout(everywhere = false) {
        const s = ref.current;
        setSignedOut(null);
        setSession(null);
        if (s) await api.logout(s.refreshToken, everywhere).catch(() => undefined);
      },
      sessionEnded,
      async changePassword(currentPassword, newPassword) {
        await withToken((t) => api.changePassword(t, currentPassword, newPassword));
      },
      getToken,
      refreshNow,
      withToken,
      updateUser(user) {
        const s = ref.current;
        if (s) setSession({ ...s, user });
      },
    }),
    [session, signedOut, setSession, refreshNow, getToken, withToken, sessionEnded],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error("useAuth outside AuthProvider");
  return v;
}

/** The signed-in user; only inside the signed-in part of the tree. */
export function useMe(): User {
  const { session } = useAuth();
  if (!session) throw new Error("useMe without a session");
  return session.user;
}

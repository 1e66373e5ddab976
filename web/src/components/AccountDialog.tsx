// "Account & security": change the password, and see where one is signed in
// with a sign-out per session and everywhere (PROTOCOL.md § HTTP, v1.1).

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import * as api from "../api/http";
import { formatDateTime } from "../lib/format";
import { describeUserAgent } from "../lib/userAgent";
import { useAuth } from "../state/AuthContext";
import { useToasts } from "../state/ToastContext";

const message = (e: unknown) => (e instanceof Error ? e.message : "Could not reach the server.");

function PasswordForm() {
  const { changePassword } = useAuth();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (next !== confirm) return setError("The new passwords do not match.");
    setBusy(true);
    setError(null);
    try {
      await changePassword(current, next);
      setCurrent("");
      setNext("");
      setConfirm("");
      setDone(true);
    } catch (err) {
      setError(err instanceof api.HttpError && err.status === 403 ? "The current password is wrong." : message(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="account-form" onSubmit={submit} aria-labelledby="password-title">
      <h3 id="password-title">Change password</h3>
      <label htmlFor="pw-current">Current password</label>
      <input id="pw-current" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
      <label htmlFor="pw-new">New password</label>
      <input id="pw-new" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required minLength={8} maxLength={128} />
      <label htmlFor="pw-confirm">Repeat the new password</label>
      <input id="pw-confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p className="notice" role="status">
          Password changed. Your other devices were signed out.
        </p>
      )}
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? "Changing…" : "Change password"}
      </button>
    </form>
  );
}

function SessionList() {
  const { withToken, logout } = useAuth();
  const { push } = useToasts();
  const [sessions, setSessions] = useState<api.SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setSessions(await withToken((t) => api.listSessions(t)));
      setError(null);
    } catch (e) {
      setError(message(e));
    }
  }, [withToken]);
  useEffect(() => void load(), [load]);

  const end = async (s: api.SessionInfo) => {
    if (s.current) return logout();
    try {
      await withToken((t) => api.endSession(t, s.id));
      push({ tone: "info", title: "Signed out", body: describeUserAgent(s.userAgent) });
    } catch (e) {
      push({ tone: "error", title: "Not signed out", body: message(e) });
    }
    await load();
  };

  return (
    <section className="account-sessions" aria-labelledby="sessions-title">
      <h3 id="sessions-title">Where you’re signed in</h3>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {sessions === null && !error && <p className="hint">Loading…</p>}
      <ul data-testid="sessions">
        {sessions?.map((s) => (
          <li key={s.id} data-current={s.current || undefined}>
            <span className="session-device">
              {describeUserAgent(s.userAgent)}
              {s.current && <span className="role">this device</span>}
            </span>
            <span className="hint">
              {s.lastUsedAt ? `active ${formatDateTime(s.lastUsedAt)}` : ""}
              {s.createdAt ? ` · signed in ${formatDateTime(s.createdAt)}` : ""}
            </span>
            <button type="button" className="btn btn-small" onClick={() => void end(s)} aria-label={s.current ? "Sign out of this device" : `Sign out ${describeUserAgent(s.userAgent)}`}>
              Sign out
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="btn btn-danger" onClick={() => void logout(true)}>
        Sign out everywhere
      </button>
    </section>
  );
}

export function AccountDialog({ onClose }: { onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} className="account" aria-labelledby="account-title" onClose={onClose}>
      <header className="account-head">
        <h2 id="account-title">Account &amp; security</h2>
        <button type="button" className="btn btn-small" onClick={onClose}>
          Close
        </button>
      </header>
      <PasswordForm />
      <SessionList />
    </dialog>
  );
}

// Sign in or create an account; after the server ended the session, say
// why first (the "signed out" state).

import { useState, type FormEvent } from "react";
import { signedOutMessage } from "../lib/signedOut";
import { useAuth } from "../state/AuthContext";

export function AuthScreen() {
  const { login, register, signedOut } = useAuth();
  const [mode, setMode] = useState<"login" | "register">("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await (mode === "login" ? login : register)(username.trim(), password);
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not reach the server.");
      setBusy(false);
    }
  };

  const registering = mode === "register";
  return (
    <main className="auth">
      <form className="auth-card" onSubmit={submit} aria-labelledby="auth-title">
        <div className="brand brand-lg">
          <span className="brand-mark" aria-hidden="true">◆</span> Chat
        </div>
        <h1 id="auth-title">{registering ? "Create your account" : signedOut ? "You were signed out" : "Welcome back"}</h1>
        {signedOut && !registering && (
          <p className="notice" role="status" data-testid="signed-out" data-reason={signedOut}>
            {signedOutMessage(signedOut)}
          </p>
        )}
        <label htmlFor="auth-username">Username</label>
        <input
          id="auth-username"
          name="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
          minLength={3}
          maxLength={32}
          pattern="[A-Za-z0-9_.\-]+"
          title="3–32 letters, digits, '_', '.' or '-'"
        />
        <label htmlFor="auth-password">Password</label>
        <input
          id="auth-password"
          name="password"
          type="password"
          autoComplete={registering ? "new-password" : "current-password"}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          minLength={registering ? 8 : 1}
          maxLength={128}
        />
        {registering && <p className="hint">At least 8 characters.</p>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Please wait…" : registering ? "Create account" : "Log in"}
        </button>
        <p className="auth-switch">
          {registering ? "Already have an account?" : "New here?"}{" "}
          <button
            type="button"
            className="link"
            onClick={() => {
              setMode(registering ? "login" : "register");
              setError(null);
            }}
          >
            {registering ? "Log in" : "Create an account"}
          </button>
        </p>
      </form>
    </main>
  );
}

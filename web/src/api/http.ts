// The gateway's HTTP routes (same origin as the app).

import type { Session } from "../lib/session";
import type { Attachment } from "../lib/types";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function errorFrom(res: Response): Promise<HttpError> {
  let text = `${res.status} ${res.statusText}`;
  try {
    const body: unknown = await res.json();
    if (typeof body === "object" && body !== null && "error" in body && typeof body.error === "string") text = body.error;
  } catch {
    // No JSON body: keep the status line.
  }
  return new HttpError(res.status, text);
}

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw await errorFrom(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export function register(username: string, password: string): Promise<Session> {
  return postJson<Session>("/register", { username, password });
}

export function login(username: string, password: string): Promise<Session> {
  return postJson<Session>("/login", { username, password });
}

export function refresh(refreshToken: string): Promise<{ token: string; refreshToken: string }> {
  return postJson("/refresh", { refreshToken });
}

/** Ends the session of `refreshToken`; with `everywhere`, every session of its user. */
export async function logout(refreshToken: string, everywhere = false): Promise<void> {
  await postJson<void>("/logout", everywhere ? { refreshToken, everywhere } : { refreshToken });
}

/** A live session of the caller (`GET /sessions`). */
export interface SessionInfo {
  id: string;
  createdAt: string | null;
  lastUsedAt: string | null;
  userAgent: string;
  current: boolean;
}

async function withBearer<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await errorFrom(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** 204 on success; every other session of the user ends, this one goes on. */
export async function changePassword(token: string, currentPassword: string, newPassword: string): Promise<void> {
  await withBearer<void>(token, "POST", "/password", { currentPassword, newPassword });
}

export function listSessions(token: string): Promise<SessionInfo[]> {
  return withBearer<SessionInfo[]>(token, "GET", "/sessions");
}

export async function endSession(token: string, id: string): Promise<void> {
  await withBearer<void>(token, "DELETE", `/sessions/${encodeURIComponent(id)}`);
}

/** POST /upload with one file under `field` (`file` or `avatar`). */
export async function upload(token: string, field: "file" | "avatar", file: File): Promise<Attachment> {
  const form = new FormData();
  form.append(field, file, file.name);
  const res = await fetch("/upload", { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: form });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as Attachment;
}

// The gateway's HTTP routes (same origin as the app).

import type { Session } from "../lib/session";
import type { Attachment, User } from "../lib/types";

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

export async function logout(refreshToken: string): Promise<void> {
  await postJson<void>("/logout", { refreshToken });
}

export async function me(token: string): Promise<User> {
  const res = await fetch("/me", { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as User;
}

/** POST /upload with one file under `field` (`file` or `avatar`). */
export async function upload(token: string, field: "file" | "avatar", file: File): Promise<Attachment> {
  const form = new FormData();
  form.append(field, file, file.name);
  const res = await fetch("/upload", { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: form });
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as Attachment;
}

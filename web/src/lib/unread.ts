// Per-room unread counts, driven by incoming messages, reads and viewing.

import type { ChatMessage } from "./types";

export interface Unread {
  count: number;
  /** A mention or DM arrived since the room was last read. */
  mentioned: boolean;
}

export const NONE: Unread = { count: 0, mentioned: false };

/** Whether `content` names `username` as `@username` (case-insensitive). */
export function mentions(content: string, username: string): boolean {
  const escaped = username.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_.-])@${escaped}(?![A-Za-z0-9_-]|\\.[A-Za-z0-9_-])`, "i").test(content);
}

export interface IncomingContext {
  me: string;
  /** The user is looking at this room right now (active and the tab visible). */
  viewing: boolean;
  /** The message was already counted (a duplicate delivery). */
  known: boolean;
}

export function onMessage(u: Unread, m: ChatMessage, ctx: IncomingContext): Unread {
  if (ctx.viewing || ctx.known || m.deleted) return u;
  if (m.sender.toLowerCase() === ctx.me.toLowerCase()) return u;
  return { count: u.count + 1, mentioned: u.mentioned || mentions(m.content, ctx.me) };
}

/** A notification (mention or DM) for the room marks it without counting. */
export function onNotified(u: Unread, viewing: boolean): Unread {
  return viewing || u.mentioned ? u : { ...u, mentioned: true };
}

/** The user read the room: here, or in another tab (a `read` event by me). */
export function onRead(): Unread {
  return NONE;
}

/** Messages from others after `lastReadId`; all of them when it is unknown. */
export function countUnreadAfter(messages: ChatMessage[], lastReadId: string | null, me: string): Unread {
  // Not found: the read position is older than the loaded page, so all of it is new.
  const i = lastReadId === null ? -1 : messages.findIndex((m) => m.id === lastReadId);
  const start = i + 1;
  let u = NONE;
  for (const m of messages.slice(start)) u = onMessage(u, m, { me, viewing: false, known: false });
  return u;
}

export function badge(u: Unread): string {
  return u.count > 99 ? "99+" : String(u.count);
}

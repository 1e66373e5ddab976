// Message list maintenance: merging pages, live events and reconnect
// catch-up without duplicates, keeping unchanged objects identical so
// memoised rows do not re-render.

import type { ChatMessage, Reaction } from "./types";

/** Messages in a room are ordered by (timestamp, id). */
export function compareMessages(a: ChatMessage, b: ChatMessage): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

function sameReactions(a: Reaction[], b: Reaction[]): boolean {
  return a.length === b.length && a.every((r, i) => r.emoji === b[i]?.emoji && r.users.join("\n") === b[i]?.users.join("\n"));
}

function sameContent(a: ChatMessage, b: ChatMessage): boolean {
  return (
    a.content === b.content &&
    a.editedAt === b.editedAt &&
    a.deleted === b.deleted &&
    a.avatar === b.avatar &&
    a.replyTo?.excerpt === b.replyTo?.excerpt &&
    sameReactions(a.reactions ?? [], b.reactions ?? []) &&
    a.attachments.length === b.attachments.length &&
    a.attachments.every((x, i) => x.id === b.attachments[i]?.id)
  );
}

/**
 * Merges server messages into a list. Confirmed messages are de-duplicated by
 * id (the incoming copy wins when it differs), local pending sends whose
 * clientId came back from the server are dropped, and pending sends stay at
 * the end. Returns `existing` itself when nothing changed.
 */
export function mergeMessages(existing: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return existing;
  const byId = new Map<string, ChatMessage>();
  const pending: ChatMessage[] = [];
  for (const m of existing) {
    if (m.pending) pending.push(m);
    else byId.set(m.id, m);
  }
  let changed = false;
  const arrivedClientIds = new Set<string>();
  for (const m of incoming) {
    if (m.clientId) arrivedClientIds.add(`${m.sender.toLowerCase()}\n${m.clientId}`);
    const old = byId.get(m.id);
    if (old && sameContent(old, m)) continue;
    byId.set(m.id, m);
    changed = true;
  }
  const stillPending = pending.filter(
    (p) => !(p.clientId && arrivedClientIds.has(`${p.sender.toLowerCase()}\n${p.clientId}`)),
  );
  if (!changed && stillPending.length === pending.length) return existing;
  const confirmed = [...byId.values()].sort(compareMessages);
  return [...confirmed, ...stillPending];
}

/** Replaces a message already in the list (an edit); unknown ids are ignored. */
export function replaceMessage(existing: ChatMessage[], message: ChatMessage): ChatMessage[] {
  const i = existing.findIndex((m) => m.id === message.id);
  if (i < 0) return existing;
  const old = existing[i];
  if (old !== undefined && sameContent(old, message)) return existing;
  const next = existing.slice();
  next[i] = message;
  return next;
}

/** Marks a message deleted the way the server stores it. */
export function markDeleted(existing: ChatMessage[], id: string): ChatMessage[] {
  const i = existing.findIndex((m) => m.id === id);
  const old = existing[i];
  if (old === undefined || old.deleted) return existing;
  const next = existing.slice();
  next[i] = { ...old, content: "", attachments: [], deleted: true };
  return next;
}

/** Adds or replaces a local pending send, keyed by clientId. */
export function upsertPending(existing: ChatMessage[], message: ChatMessage): ChatMessage[] {
  const i = existing.findIndex((m) => m.pending && m.clientId === message.clientId);
  if (i < 0) return [...existing, message];
  const next = existing.slice();
  next[i] = message;
  return next;
}

export function removePending(existing: ChatMessage[], clientId: string): ChatMessage[] {
  const next = existing.filter((m) => !(m.pending && m.clientId === clientId));
  return next.length === existing.length ? existing : next;
}

/** The newest message the server knows about: the `after` cursor for catch-up. */
export function lastConfirmedId(messages: ChatMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && !m.pending) return m.id;
  }
  return null;
}

/** The oldest loaded message: the `before` cursor for "load older". */
export function firstConfirmedId(messages: ChatMessage[]): string | null {
  return messages.find((m) => !m.pending)?.id ?? null;
}

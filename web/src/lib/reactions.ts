// Reactions as the client shows them: the picker's common emoji, who
// reacted, and applying a `messageReactions` event to a message list.

import type { ChatMessage, Reaction } from "./types";

/** The picker's choices; any single emoji is accepted by the server. */
export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"] as const;

/** True when `me` is among the users of `r` (usernames compare ignoring case). */
export function reactedByMe(r: Reaction, me: string): boolean {
  const lower = me.toLowerCase();
  return r.users.some((u) => u.toLowerCase() === lower);
}

/** "alice, bob and 3 others reacted with 👍" */
export function reactionTitle(r: Reaction): string {
  const shown = r.users.slice(0, 3);
  const rest = r.users.length - shown.length;
  const who = rest > 0 ? `${shown.join(", ")} and ${rest} other${rest === 1 ? "" : "s"}` : shown.join(", ").replace(/, ([^,]*)$/, " and $1");
  return `${who} reacted with ${r.emoji}`;
}

/** The list with message `id`'s reactions replaced; the same array when nothing changed. */
export function applyReactions(messages: ChatMessage[], id: string, reactions: Reaction[]): ChatMessage[] {
  const i = messages.findIndex((m) => m.id === id);
  const m = messages[i];
  if (!m || JSON.stringify(m.reactions ?? []) === JSON.stringify(reactions)) return messages;
  const next = messages.slice();
  next[i] = { ...m, reactions };
  return next;
}

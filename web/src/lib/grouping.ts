// Turns a message list into display rows: runs of messages by one sender
// within a few minutes share one avatar and name, and the first message of
// each day carries the day's label. Day labels ride on message rows (rather
// than being rows of their own) so every row is anchored to a message, which
// keeps the reader's place when older messages are prepended.

import type { ChatMessage } from "./types";

export interface Row {
  key: string;
  message: ChatMessage;
  startsGroup: boolean;
  endsGroup: boolean;
  /** Set on the first message of a day: "Today", "Yesterday" or a date. */
  dayLabel: string | null;
}

export const GROUP_GAP_MS = 5 * 60 * 1000;

function dayKey(d: Date): string {
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(d: Date, now: Date): string {
  if (dayKey(d) === dayKey(now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (dayKey(d) === dayKey(yesterday)) return "Yesterday";
  return d.toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric", year: "numeric" });
}

export function groupMessages(messages: ChatMessage[], now: Date = new Date(), gapMs = GROUP_GAP_MS): Row[] {
  const rows: Row[] = [];
  let prev: ChatMessage | null = null;
  let prevDay = "";
  for (const m of messages) {
    const at = new Date(m.timestamp);
    const day = dayKey(at);
    const newDay = day !== prevDay;
    prevDay = day;
    const startsGroup =
      newDay ||
      prev === null ||
      prev.sender.toLowerCase() !== m.sender.toLowerCase() ||
      at.getTime() - new Date(prev.timestamp).getTime() > gapMs;
    const last = rows[rows.length - 1];
    if (startsGroup && last) last.endsGroup = true;
    rows.push({
      // Pending sends keep their key when confirmed so the row is not remounted.
      key: m.clientId ? `c:${m.sender}:${m.clientId}` : m.id,
      message: m,
      startsGroup,
      endsGroup: false,
      dayLabel: newDay ? dayLabel(at, now) : null,
    });
    prev = m;
  }
  const last = rows[rows.length - 1];
  if (last) last.endsGroup = true;
  return rows;
}

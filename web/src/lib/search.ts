// Search results as the client shows them: grouped by room (rooms in the
// order of their newest result) and cut into highlighted segments from the
// server's `matches` ([start, end) code-point offsets; the content itself
// never carries markup).

import type { SearchResult } from "./types";

export interface Segment {
  text: string;
  hit: boolean;
}

/** Splits `content` at the matched ranges. Offsets count code points, not UTF-16 units. */
export function highlight(content: string, matches: [number, number][]): Segment[] {
  const chars = [...content];
  const ranges = matches
    .map(([s, e]) => [Math.max(0, s), Math.min(chars.length, e)] as const)
    .filter(([s, e]) => s < e)
    .sort((a, b) => a[0] - b[0]);
  const out: Segment[] = [];
  let at = 0;
  for (const [s, e] of ranges) {
    if (s < at) continue; // overlapping ranges: keep the first
    if (s > at) out.push({ text: chars.slice(at, s).join(""), hit: false });
    out.push({ text: chars.slice(s, e).join(""), hit: true });
    at = e;
  }
  if (at < chars.length) out.push({ text: chars.slice(at).join(""), hit: false });
  return out;
}

export interface RoomResults {
  room: string;
  results: SearchResult[];
}

/** Groups results (newest first) by room, keeping that order within and across rooms. */
export function groupByRoom(results: SearchResult[]): RoomResults[] {
  const groups = new Map<string, SearchResult[]>();
  for (const r of results) {
    const list = groups.get(r.message.room) ?? [];
    list.push(r);
    groups.set(r.message.room, list);
  }
  return [...groups].map(([room, list]) => ({ room, results: list }));
}

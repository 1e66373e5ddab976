// Small display helpers.

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** Date and time, for things older than today (a session's sign-in). */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function initials(name: string): string {
  const [first = "", second = ""] = name.split(/[._-]+/).filter(Boolean);
  // "mary.jane" → MJ, but "alice_42" → AL: a digit makes a poor initial.
  const letters = /^[A-Za-z]/.test(second) ? (first[0] ?? "") + second[0] : name.slice(0, 2);
  return letters.toUpperCase();
}

/** A stable hue per name, so each person keeps one avatar colour. */
export function hueFor(name: string): number {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return h;
}

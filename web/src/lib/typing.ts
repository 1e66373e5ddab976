// Typing indicator: a throttled emitter for our own keystrokes and the
// bookkeeping of who else is typing.

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Emits `true` on the first keystroke and again at most every `throttleMs`
 * while typing goes on (so others' indicators do not expire), and `false`
 * after `idleMs` without input or when stopped (message sent, room left).
 */
export class TypingEmitter {
  private lastTrueAt = -Infinity;
  private typing = false;
  private idleTimer: unknown = null;

  constructor(
    private readonly emit: (typing: boolean) => void,
    private readonly throttleMs = 2000,
    private readonly idleMs = 3000,
    private readonly timers: Timers = realTimers,
  ) {}

  input(): void {
    const now = this.timers.now();
    if (!this.typing || now - this.lastTrueAt >= this.throttleMs) {
      this.typing = true;
      this.lastTrueAt = now;
      this.emit(true);
    }
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = this.timers.setTimeout(() => this.stop(), this.idleMs);
  }

  stop(): void {
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.typing) return;
    this.typing = false;
    this.emit(false);
  }
}

/** user → time (ms) after which the indicator lapses if no update came. */
export type TypingMap = Readonly<Record<string, number>>;

export const TYPING_TTL_MS = 6000;

export function applyTyping(map: TypingMap, user: string, typing: boolean, now: number): TypingMap {
  if (typing) return { ...map, [user]: now + TYPING_TTL_MS };
  if (!(user in map)) return map;
  const next = { ...map };
  delete next[user];
  return next;
}

export function activeTypers(map: TypingMap, now: number, me: string): string[] {
  return Object.entries(map)
    .filter(([user, until]) => until > now && user.toLowerCase() !== me.toLowerCase())
    .map(([user]) => user)
    .sort();
}

export function typingLabel(users: string[]): string {
  const [a, b] = users;
  if (a === undefined) return "";
  if (b === undefined) return `${a} is typing…`;
  if (users.length === 2) return `${a} and ${b} are typing…`;
  return "Several people are typing…";
}

// Per-user room list, active room and read positions kept in localStorage,
// so a reload reopens the same rooms and knows what was already read.

export interface RoomPrefs {
  order: string[];
  active: string | null;
  lastRead: Record<string, string>;
}

const key = (username: string) => `chat.rooms.${username.toLowerCase()}`;

export function loadRoomPrefs(storage: Pick<Storage, "getItem">, username: string): RoomPrefs {
  const fallback: RoomPrefs = { order: ["general"], active: "general", lastRead: {} };
  try {
    const raw = storage.getItem(key(username));
    if (!raw) return fallback;
    const p = JSON.parse(raw) as Partial<RoomPrefs>;
    const order = Array.isArray(p.order) ? p.order.filter((r): r is string => typeof r === "string") : fallback.order;
    return {
      order,
      active: typeof p.active === "string" ? p.active : (order[0] ?? null),
      lastRead: typeof p.lastRead === "object" && p.lastRead !== null ? p.lastRead : {},
    };
  } catch {
    return fallback;
  }
}

export function saveRoomPrefs(storage: Pick<Storage, "setItem">, username: string, prefs: RoomPrefs): void {
  storage.setItem(key(username), JSON.stringify(prefs));
}

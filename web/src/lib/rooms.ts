// Room naming rules: plain rooms and direct-message rooms `dm:<a>:<b>`.

const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const USER_RE = /^[A-Za-z0-9_.-]{3,32}$/;

/** The direct-message room of two users: lower-cased, sorted names. */
export function dmRoomName(a: string, b: string): string {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()].sort();
  if (x === y) throw new Error("A direct message needs two different users.");
  return `dm:${x}:${y}`;
}

export function isDmRoom(room: string): boolean {
  return room.startsWith("dm:");
}

/** The other member of a DM room as seen by `me`, or null for a plain room. */
export function dmPeer(room: string, me: string): string | null {
  if (!isDmRoom(room)) return null;
  const [, a, b] = room.split(":");
  if (a === undefined || b === undefined) return null;
  return a === me.toLowerCase() ? b : a;
}

/** What the room list shows for a room. */
export function roomLabel(room: string, me: string): string {
  const peer = dmPeer(room, me);
  return peer ?? `#${room}`;
}

/** Trims, drops a leading '#'; returns the name or an error sentence. */
export function parseRoomInput(input: string): { room: string } | { error: string } {
  const room = input.trim().replace(/^#/, "");
  if (room.length === 0) return { error: "Enter a room name." };
  if (!ROOM_RE.test(room)) {
    return { error: "Room names are 1–64 letters, digits, '_' or '-'." };
  }
  return { room };
}

export function parseUsernameInput(input: string, me: string): { room: string } | { error: string } {
  const name = input.trim().replace(/^@/, "");
  if (!USER_RE.test(name)) return { error: "Usernames are 3–32 letters, digits, '_', '.' or '-'." };
  if (name.toLowerCase() === me.toLowerCase()) return { error: "Pick someone other than yourself." };
  return { room: dmRoomName(me, name) };
}

// The client's view of its rooms as one pure reducer: messages, pending
// sends, typing, presence, read receipts and unread counts.

import { markDeleted, mergeMessages, removePending, replaceMessage, upsertPending } from "../lib/merge";
import { nextSendState, type SendState } from "../lib/sendState";
import { applyTyping, type TypingMap } from "../lib/typing";
import { countUnreadAfter, NONE, onMessage, onNotified, onRead, type Unread } from "../lib/unread";
import { applyReactions } from "../lib/reactions";
import type { ChatMessage, Reaction, Role } from "../lib/types";

/** What the server says about a room and the user's place in it (v1.2). */
export interface RoomMeta {
  private: boolean;
  topic: string;
  owner: string | null;
  role: Role | null;
}

export interface RoomState {
  name: string;
  messages: ChatMessage[];
  /** Older history exists on the server. */
  hasMore: boolean;
  /** The first page arrived. */
  loaded: boolean;
  loadingOlder: boolean;
  typing: TypingMap;
  online: string[];
  /** user → the newest message id they have read. */
  reads: Readonly<Record<string, string>>;
  unread: Unread;
  error: string | null;
  meta: RoomMeta | null;
  /** Set when the user was removed from the room (by whom). */
  removedBy: string | null;
  /** Goes up when the member list changed (refetch it). */
  membersRev: number;
  /** The message the composer answers, shown above it. */
  replyingTo: ChatMessage | null;
  /** A message to scroll to and flash (a reply's original, a search result). */
  focus: string | null;
}

export interface ChatState {
  rooms: Readonly<Record<string, RoomState>>;
  order: string[];
  active: string | null;
  /** clientId → visible send state of my messages. */
  sends: Readonly<Record<string, SendState>>;
}

export type ChatAction =
  | { type: "addRoom"; room: string; activate?: boolean }
  | { type: "removeRoom"; room: string }
  | { type: "activate"; room: string }
  | { type: "roomError"; room: string; error: string | null }
  | {
      type: "page";
      room: string;
      messages: ChatMessage[];
      hasMore?: boolean;
      older?: boolean;
      reset?: boolean;
      /** Count messages new to this list as unread (reconnect catch-up). */
      unreadFor?: { me: string; viewing: boolean };
    }
  | { type: "firstPage"; room: string; messages: ChatMessage[]; hasMore: boolean; me: string; lastReadId: string | null; viewing: boolean }
  | { type: "loadingOlder"; room: string; loading: boolean }
  | { type: "message"; message: ChatMessage; me: string; viewing: boolean }
  | { type: "edited"; message: ChatMessage }
  | { type: "reactions"; room: string; id: string; reactions: Reaction[] }
  | { type: "replyTo"; room: string; message: ChatMessage | null }
  | { type: "focus"; room: string; id: string | null }
  /** The history around one message (opening a search result), replacing the list. */
  | { type: "around"; room: string; messages: ChatMessage[]; hasMore: boolean; focus: string }
  | { type: "deleted"; room: string; id: string }
  | { type: "typing"; room: string; user: string; typing: boolean; now: number }
  | { type: "presence"; room: string; users: string[] }
  | { type: "joined"; room: string; user: string }
  | { type: "left"; room: string; user: string }
  | { type: "read"; room: string; user: string; messageId: string; me: string }
  | { type: "viewed"; room: string }
  | { type: "notified"; room: string; viewing: boolean }
  | { type: "sendStart"; message: ChatMessage }
  | { type: "sendAck"; clientId: string; message: ChatMessage }
  | { type: "sendFail"; clientId: string; error: string }
  | { type: "sendRetry"; clientId: string }
  | { type: "sendDiscard"; room: string; clientId: string }
  | { type: "roomMeta"; room: string; meta: Partial<RoomMeta> }
  | { type: "serverUnread"; room: string; count: number }
  /** `by: null`: the user is back in the room. */
  | { type: "removed"; room: string; by: string | null }
  | { type: "membersChanged"; room: string };

export function emptyRoom(name: string): RoomState {
  return { name, messages: [], hasMore: false, loaded: false, loadingOlder: false, typing: {}, online: [], reads: {}, unread: NONE, error: null, meta: null, removedBy: null, membersRev: 0, replyingTo: null, focus: null };
}

export function initialChatState(order: string[] = [], active: string | null = null): ChatState {
  const rooms: Record<string, RoomState> = {};
  for (const r of order) rooms[r] = emptyRoom(r);
  return { rooms, order, active: active && rooms[active] ? active : (order[0] ?? null), sends: {} };
}

function updateRoom(state: ChatState, room: string, f: (r: RoomState) => RoomState): ChatState {
  const r = state.rooms[room];
  if (!r) return state;
  const next = f(r);
  return next === r ? state : { ...state, rooms: { ...state.rooms, [room]: next } };
}

function setSend(state: ChatState, clientId: string, s: SendState | undefined): ChatState {
  if (s === state.sends[clientId] || s === undefined) return state;
  return { ...state, sends: { ...state.sends, [clientId]: s } };
}

export function chatReducer(state: ChatState, a: ChatAction): ChatState {
  switch (a.type) {
    case "addRoom": {
      const exists = state.rooms[a.room] !== undefined;
      const base = exists ? state : { ...state, rooms: { ...state.rooms, [a.room]: emptyRoom(a.room) }, order: [...state.order, a.room] };
      return a.activate || base.active === null ? { ...base, active: a.room } : base;
    }
    case "removeRoom": {
      if (!state.rooms[a.room]) return state;
      const rooms = { ...state.rooms };
      delete rooms[a.room];
      const order = state.order.filter((r) => r !== a.room);
      return { ...state, rooms, order, active: state.active === a.room ? (order[0] ?? null) : state.active };
    }
    case "activate":
      return state.rooms[a.room] && state.active !== a.room ? { ...state, active: a.room } : state;
    case "roomError":
      return updateRoom(state, a.room, (r) => (r.error === a.error ? r : { ...r, error: a.error }));
    case "page":
      return updateRoom(state, a.room, (r) => {
        const base = a.reset ? r.messages.filter((m) => m.pending) : r.messages;
        const messages = mergeMessages(base, a.messages);
        // Only a page of older history, or the first page, says whether more exists.
        const hasMore = a.hasMore !== undefined && (a.older || a.reset || !r.loaded) ? a.hasMore : r.hasMore;
        let unread = r.unread;
        if (a.unreadFor) {
          const known = new Set(r.messages.map((m) => m.id));
          for (const m of a.messages) unread = onMessage(unread, m, { ...a.unreadFor, known: known.has(m.id) });
        }
        const loadingOlder = a.older ? false : r.loadingOlder;
        if (messages === r.messages && hasMore === r.hasMore && r.loaded && unread === r.unread && loadingOlder === r.loadingOlder) return r;
        return { ...r, messages, hasMore, loaded: true, loadingOlder, unread };
      });
    case "firstPage":
      return updateRoom(state, a.room, (r) => {
        const messages = mergeMessages(r.messages, a.messages);
        const unread = a.viewing ? NONE : countUnreadAfter(a.messages, a.lastReadId, a.me);
        return { ...r, messages, hasMore: a.hasMore, loaded: true, unread, error: null };
      });
    case "loadingOlder":
      return updateRoom(state, a.room, (r) => (r.loadingOlder === a.loading ? r : { ...r, loadingOlder: a.loading }));
    case "message":
      return updateRoom(state, a.message.room, (r) => {
        const known = r.messages.some((m) => m.id === a.message.id);
        const messages = mergeMessages(r.messages, [a.message]);
        const unread = onMessage(r.unread, a.message, { me: a.me, viewing: a.viewing, known });
        // A message ends its sender's typing.
        const typing = applyTyping(r.typing, a.message.sender, false, 0);
        if (messages === r.messages && unread === r.unread && typing === r.typing) return r;
        return { ...r, messages, unread, typing };
      });
    case "edited":
      return updateRoom(state, a.message.room, (r) => {
        const messages = replaceMessage(r.messages, a.message);
        return messages === r.messages ? r : { ...r, messages };
      });
    case "deleted":
      return updateRoom(state, a.room, (r) => {
        const messages = markDeleted(r.messages, a.id);
        const replyingTo = r.replyingTo?.id === a.id ? null : r.replyingTo;
        return messages === r.messages && replyingTo === r.replyingTo ? r : { ...r, messages, replyingTo };
      });
    case "reactions":
      return updateRoom(state, a.room, (r) => {
        const messages = applyReactions(r.messages, a.id, a.reactions);
        return messages === r.messages ? r : { ...r, messages };
      });
    case "replyTo":
      return updateRoom(state, a.room, (r) => (r.replyingTo === a.message ? r : { ...r, replyingTo: a.message }));
    case "focus":
      return updateRoom(state, a.room, (r) => (r.focus === a.id ? r : { ...r, focus: a.id }));
    case "around":
      return updateRoom(state, a.room, (r) => {
        const base = r.messages.filter((m) => m.pending);
        return { ...r, messages: mergeMessages(base, a.messages), hasMore: a.hasMore, loaded: true, loadingOlder: false, focus: a.focus };
      });
    case "typing":
      return updateRoom(state, a.room, (r) => {
        const typing = applyTyping(r.typing, a.user, a.typing, a.now);
        return typing === r.typing ? r : { ...r, typing };
      });
    case "presence":
      return updateRoom(state, a.room, (r) => ({ ...r, online: [...new Set(a.users)].sort() }));
    case "joined":
      return updateRoom(state, a.room, (r) => (r.online.includes(a.user) ? r : { ...r, online: [...r.online, a.user].sort() }));
    case "left":
      return updateRoom(state, a.room, (r) => {
        if (!r.online.includes(a.user)) return r;
        return { ...r, online: r.online.filter((u) => u !== a.user), typing: applyTyping(r.typing, a.user, false, 0) };
      });
    case "read":
      return updateRoom(state, a.room, (r) => {
        const reads = r.reads[a.user] === a.messageId ? r.reads : { ...r.reads, [a.user]: a.messageId };
        const mine = a.user.toLowerCase() === a.me.toLowerCase();
        const unread = mine && (r.unread.count > 0 || r.unread.mentioned) ? onRead() : r.unread;
        return reads === r.reads && unread === r.unread ? r : { ...r, reads, unread };
      });
    case "viewed":
      return updateRoom(state, a.room, (r) => (r.unread.count === 0 && !r.unread.mentioned ? r : { ...r, unread: onRead() }));
    case "notified":
      return updateRoom(state, a.room, (r) => {
        const unread = onNotified(r.unread, a.viewing);
        return unread === r.unread ? r : { ...r, unread };
      });
    case "sendStart": {
      const cid = a.message.clientId ?? "";
      const s = setSend(state, cid, nextSendState(state.sends[cid], { type: "send" }));
      return updateRoom(s, a.message.room, (r) => ({ ...r, messages: upsertPending(r.messages, a.message) }));
    }
    case "sendAck": {
      const s = setSend(state, a.clientId, nextSendState(state.sends[a.clientId], { type: "ack" }));
      return updateRoom(s, a.message.room, (r) => {
        const messages = mergeMessages(r.messages, [a.message]);
        return messages === r.messages ? r : { ...r, messages };
      });
    }
    case "sendFail":
      return setSend(state, a.clientId, nextSendState(state.sends[a.clientId], { type: "fail", error: a.error }));
    case "sendRetry":
      return setSend(state, a.clientId, nextSendState(state.sends[a.clientId], { type: "retry" }));
    case "roomMeta":
      return updateRoom(state, a.room, (r) => {
        const base: RoomMeta = r.meta ?? { private: false, topic: "", owner: null, role: null };
        return { ...r, meta: { ...base, ...a.meta } };
      });
    case "serverUnread":
      return updateRoom(state, a.room, (r) => (r.unread.count === a.count ? r : { ...r, unread: { ...r.unread, count: a.count } }));
    case "removed":
      return updateRoom(state, a.room, (r) => {
        if (a.by === null) return r.removedBy === null ? r : { ...r, removedBy: null };
        return { ...r, removedBy: a.by, online: [], typing: {}, unread: NONE };
      });
    case "membersChanged":
      return updateRoom(state, a.room, (r) => ({ ...r, membersRev: r.membersRev + 1 }));
    case "sendDiscard": {
      const sends = { ...state.sends };
      delete sends[a.clientId];
      return updateRoom({ ...state, sends }, a.room, (r) => ({ ...r, messages: removePending(r.messages, a.clientId) }));
    }
  }
}

/**
 * Where to show read receipts: each other user's read position, moved back to
 * the newest message at or before it that someone else wrote (nobody needs to
 * be told that bob has seen his own message). message id → readers, sorted.
 */
export function receiptsByMessage(messages: ChatMessage[], reads: Readonly<Record<string, string>>, me: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (Object.keys(reads).length === 0) return out;
  const index = new Map(messages.map((m, i) => [m.id, i]));
  for (const [user, id] of Object.entries(reads)) {
    const u = user.toLowerCase();
    if (u === me.toLowerCase()) continue;
    let i = index.get(id) ?? -1;
    while (i >= 0 && messages[i]?.sender.toLowerCase() === u) i--;
    const target = messages[i];
    if (!target) continue;
    const list = out.get(target.id) ?? [];
    list.push(user);
    out.set(target.id, list.sort());
  }
  return out;
}

/** Each sender's newest known avatar (lower-cased name → URL), for presence lists. */
export function latestAvatars(messages: ChatMessage[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.avatar && !out.has(m.sender.toLowerCase())) out.set(m.sender.toLowerCase(), m.avatar);
  }
  return out;
}

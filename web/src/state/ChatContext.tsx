// Chat state and actions over the one socket: joining and re-joining rooms
// (with catch-up after a reconnect), sending with retry, edits, deletes,
// history paging, typing and read positions.

import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, type ReactNode } from "react";
import * as api from "../api/http";
import { firstConfirmedId, lastConfirmedId } from "../lib/merge";
import { isDmRoom, parseUsernameInput } from "../lib/rooms";
import { isRetryable, newClientId } from "../lib/sendState";
import { TypingEmitter } from "../lib/typing";
import type { ApiError, Attachment, ChatMessage, Member, Reaction, RoomSummary, SearchResult } from "../lib/types";
import { useAuth, useMe } from "./AuthContext";
import { chatReducer, initialChatState, type ChatState } from "./chatState";
import { useChatEvents } from "./chatEvents";
import { loadRoomPrefs, saveRoomPrefs } from "./roomPrefs";
import { useSocket } from "./SocketContext";

export interface ChatActions {
  /** Joins (or creates) a room and shows it; resolves to an error sentence or null. */
  openRoom(room: string): Promise<string | null>;
  openDm(username: string): Promise<string | null>;
  /**
   * Leaves for good: ends the membership (`removeMember` of oneself, v1.2)
   * and closes the room; a direct message is only closed. Resolves to an
   * error sentence or null.
   */
  leaveRoom(room: string): Promise<string | null>;
  /** Takes the room off screen and out of this socket; the membership stays. */
  closeRoom(room: string): void;
  activate(room: string): void;
  send(room: string, content: string, files: File[]): void;
  retry(clientId: string): void;
  discard(room: string, clientId: string): void;
  edit(id: string, content: string): Promise<string | null>;
  remove(id: string): Promise<string | null>;
  loadOlder(room: string): Promise<void>;
  /** The user is looking at the newest messages of `room`. */
  markViewed(room: string): void;
  typingInput(room: string): void;
  typingStop(room: string): void;
  /** v1.2 rooms: each resolves to an error sentence or null. */
  createRoom(room: string, isPrivate: boolean, topic: string): Promise<string | null>;
  members(room: string): Promise<Member[] | string>;
  invite(room: string, user: string): Promise<string | null>;
  removeMember(room: string, user: string, ban: boolean): Promise<string | null>;
  unban(room: string, user: string): Promise<string | null>;
  setRole(room: string, user: string, role: "admin" | "member"): Promise<string | null>;
  setTopic(room: string, topic: string): Promise<string | null>;
  /** Refreshes the memberships, roles, topics and unread counts from the server. */
  refreshRooms(): Promise<void>;
  /** The composer of `room` answers `message` (null: no longer). */
  setReply(room: string, message: ChatMessage | null): void;
  /** Adds or removes my reaction; resolves to an error sentence or null. */
  react(id: string, emoji: string, on: boolean): Promise<string | null>;
  search(query: string): Promise<{ results: SearchResult[]; error: string | null }>;
  /** Opens `room` scrolled to message `id`, loading the history around it when needed. */
  openAt(room: string, id: string): Promise<void>;
  /** The focused message was shown. */
  clearFocus(room: string): void;
}

interface Outgoing {
  room: string;
  content: string;
  files: File[];
  attachmentIds: string[] | null;
  previews: Attachment[];
  replyTo: string | null;
  /** The last failure was one a resend can fix (offline, timeout, rate limit). */
  retryable: boolean;
}

export const PAGE_SIZE = 50;
const CATCH_UP_PAGE = 200;
const CATCH_UP_MAX_PAGES = 25;
/** Messages loaded on each side of a message opened from search or a reply. */
const AROUND_PAGE = 100;

const StateContext = createContext<ChatState | null>(null);
const ActionsContext = createContext<ChatActions | null>(null);

export function ChatProvider({ children }: { children: ReactNode }) {
  const me = useMe();
  const { withToken } = useAuth();
  const { chat, notifications, generation, request } = useSocket();
  const prefs = useRef(loadRoomPrefs(localStorage, me.username));
  const [state, dispatch] = useReducer(chatReducer, undefined, () => initialChatState(prefs.current.order, prefs.current.active));
  const stateRef = useRef(state);
  stateRef.current = state;
  const chatRef = useRef(chat);
  chatRef.current = chat;
  // Read at call time so the actions stay stable across an avatar change.
  const meRef = useRef(me);
  meRef.current = me;
  const outbox = useRef(new Map<string, Outgoing>());
  const typers = useRef(new Map<string, TypingEmitter>());
  const lastMarked = useRef(new Map<string, string>());

  const isViewing = useCallback((room: string) => stateRef.current.active === room && document.visibilityState === "visible", []);

  const { actions, syncRoom, fetchRooms, applyUnread } = useMemo(() => {
    // Resolves to the refusal, if any (its message is what the user reads).
    const syncRoom = async (room: string): Promise<ApiError | null> => {
      const known = stateRef.current.rooms[room];
      const lastSeen = known?.loaded ? lastConfirmedId(known.messages) : null;
      const reply = await request<{ messages: ChatMessage[]; hasMore: boolean }>("joinRoom", { room, limit: PAGE_SIZE });
      if (!reply.ok) {
        dispatch({ type: "roomError", room, error: reply.error.message });
        return reply.error;
      }
      if (lastSeen === null) {
        const lastReadId = prefs.current.lastRead[room] ?? null;
        dispatch({ type: "firstPage", room, messages: reply.messages, hasMore: reply.hasMore, me: meRef.current.username, lastReadId, viewing: isViewing(room) });
      } else {
        const unreadFor = { me: meRef.current.username, viewing: isViewing(room) };
        dispatch({ type: "page", room, messages: reply.messages, unreadFor });
        if (reply.messages.length > 0 && !reply.messages.some((m) => m.id === lastSeen)) {
          await catchUp(room, lastSeen, reply.messages, reply.hasMore);
        }
      }
      if (stateRef.current.rooms[room]?.error) dispatch({ type: "roomError", room, error: null });
      dispatch({ type: "removed", room, by: null });
      const presence = await request<{ users: string[] }>("presence", { room });
      if (presence.ok) dispatch({ type: "presence", room, users: presence.users });
      return null;
    };

    // Pages forward from the last message seen before the connection dropped.
    const catchUp = async (room: string, lastSeen: string, latest: ChatMessage[], latestHasMore: boolean) => {
      let after = lastSeen;
      for (let i = 0; i < CATCH_UP_MAX_PAGES; i++) {
        const page = await request<{ messages: ChatMessage[]; hasMore: boolean }>("history", { room, after, limit: CATCH_UP_PAGE });
        if (!page.ok) {
          // Our cursor is gone: start over from the latest page.
          if (page.error.code === "NOT_FOUND") dispatch({ type: "page", room, messages: latest, hasMore: latestHasMore, reset: true });
          return;
        }
        dispatch({ type: "page", room, messages: page.messages, unreadFor: { me: meRef.current.username, viewing: isViewing(room) } });
        const last = page.messages[page.messages.length - 1];
        if (!page.hasMore || !last) return;
        after = last.id;
      }
    };

    const attempt = async (clientId: string) => {
      const out = outbox.current.get(clientId);
      if (!out) return;
      try {
        if (out.attachmentIds === null && out.files.length > 0) {
          const uploaded = await Promise.all(out.files.map((f) => withToken((t) => api.upload(t, "file", f))));
          out.attachmentIds = uploaded.map((a) => a.id);
        }
      } catch (e) {
        // A refused file (too large, wrong type) will be refused again; a network error may pass.
        out.retryable = !(e instanceof api.HttpError) || e.status === 401 || e.status === 429 || e.status >= 500;
        dispatch({ type: "sendFail", clientId, error: e instanceof Error ? e.message : "Upload failed." });
        return;
      }
      const payload = { room: out.room, content: out.content, clientId, attachments: out.attachmentIds ?? [], ...(out.replyTo ? { replyTo: out.replyTo } : {}) };
      const reply = await request<{ message: ChatMessage }>("sendMessage", payload);
      if (reply.ok) {
        dispatch({ type: "sendAck", clientId, message: reply.message });
        out.previews.forEach((p) => URL.revokeObjectURL(p.url));
        outbox.current.delete(clientId);
      } else {
        out.retryable = isRetryable(reply.error.code);
        dispatch({ type: "sendFail", clientId, error: reply.error.message });
      }
    };

    const typer = (room: string) => {
      let t = typers.current.get(room);
      if (!t) {
        t = new TypingEmitter((typing) => chatRef.current?.connected && chatRef.current.emit("typing", { room, typing }));
        typers.current.set(room, t);
      }
      return t;
    };

    const openRoom = async (room: string): Promise<string | null> => {
      const existed = stateRef.current.rooms[room] !== undefined;
      dispatch({ type: "addRoom", room, activate: true });
      if (existed) return null;
      const err = await syncRoom(room);
      // Offline: keep the room; it is joined on the next connect.
      if (!err || !chatRef.current?.connected) return null;
      dispatch({ type: "removeRoom", room });
      return err.message;
    };

    const simple = async (event: string, payload: object): Promise<string | null> => {
      const reply = await request<object>(event, payload);
      return reply.ok ? null : reply.error.message;
    };

    // The server's list of memberships: rooms of other devices appear, and
    // meta and unread counts come from the server.
    const fetchRooms = async (): Promise<RoomSummary[] | null> => {
      const reply = await request<{ rooms: RoomSummary[] }>("rooms", {});
      if (!reply.ok) return null;
      for (const r of reply.rooms) {
        dispatch({ type: "addRoom", room: r.room });
        dispatch({ type: "roomMeta", room: r.room, meta: { private: r.private, topic: r.topic, owner: r.owner, role: r.role } });
      }
      return reply.rooms;
    };
    const applyUnread = (list: RoomSummary[]) => {
      for (const r of list) {
        if (!isViewing(r.room) && typeof r.unread === "number") dispatch({ type: "serverUnread", room: r.room, count: r.unread });
      }
    };
    const refreshRooms = async () => {
      const list = await fetchRooms();
      if (!list) return;
      const stale = (room: string) => !stateRef.current.rooms[room]?.loaded || stateRef.current.rooms[room]?.removedBy;
      await Promise.all(list.filter((r) => stale(r.room)).map((r) => syncRoom(r.room)));
      applyUnread(list);
    };

    const actions: ChatActions = {
      openRoom,
      refreshRooms,
      async createRoom(room, isPrivate, topic) {
        const reply = await request<{ room: RoomSummary }>("createRoom", { room, private: isPrivate, topic });
        if (!reply.ok) return reply.error.message;
        const r = reply.room;
        dispatch({ type: "addRoom", room, activate: true });
        dispatch({ type: "roomMeta", room, meta: { private: r.private, topic: r.topic, owner: r.owner, role: r.role } });
        return (await syncRoom(room))?.message ?? null;
      },
      async members(room) {
        const reply = await request<{ members: Member[] }>("members", { room });
        return reply.ok ? reply.members : reply.error.message;
      },
      invite: (room, user) => simple("invite", { room, user }),
      removeMember: (room, user, ban) => simple("removeMember", { room, user, ban }),
      unban: (room, user) => simple("unban", { room, user }),
      setRole: (room, user, role) => simple("setRole", { room, user, role }),
      setTopic: (room, topic) => simple("setTopic", { room, topic }),
      async openDm(username) {
        const parsed = parseUsernameInput(username, meRef.current.username);
        if ("error" in parsed) return parsed.error;
        return openRoom(parsed.room);
      },
      async leaveRoom(room) {
        if (!isDmRoom(room)) {
          const reply = await request<object>("removeMember", { room, user: meRef.current.username });
          if (!reply.ok) {
            dispatch({ type: "roomError", room, error: reply.error.message });
            return reply.error.message;
          }
        }
        actions.closeRoom(room);
        return null;
      },
      closeRoom(room) {
        typers.current.get(room)?.stop();
        void request("leaveRoom", { room });
        dispatch({ type: "removeRoom", room });
      },
      activate(room) {
        dispatch({ type: "activate", room });
      },
      send(room, content, files) {
        const clientId = newClientId();
        const previews: Attachment[] = files.map((f, i) => ({
          id: `local:${clientId}:${i}`,
          url: f.type.startsWith("image/") ? URL.createObjectURL(f) : "",
          contentType: f.type || "application/octet-stream",
          size: f.size,
          name: f.name,
        }));
        // The contract needs 1–4000 characters of content even with attachments.
        const text = content.trim() || files.map((f) => f.name).join(", ");
        const answering = stateRef.current.rooms[room]?.replyingTo ?? null;
        const replyTo = answering ? { id: answering.id, sender: answering.sender, excerpt: [...answering.content].slice(0, 100).join("") } : null;
        outbox.current.set(clientId, { room, content: text, files, attachmentIds: null, previews, replyTo: replyTo?.id ?? null, retryable: true });
        if (answering) dispatch({ type: "replyTo", room, message: null });
        typer(room).stop();
        dispatch({
          type: "sendStart",
          message: {
            id: `local:${clientId}`, room, sender: meRef.current.username, content: text, avatar: meRef.current.avatar,
            timestamp: new Date().toISOString(), clientId, attachments: previews, editedAt: null, deleted: false, pending: true,
            replyTo, reactions: [],
          },
        });
        void attempt(clientId);
      },
      retry(clientId) {
        if (!outbox.current.has(clientId)) return;
        dispatch({ type: "sendRetry", clientId });
        void attempt(clientId);
      },
      discard(room, clientId) {
        outbox.current.get(clientId)?.previews.forEach((p) => URL.revokeObjectURL(p.url));
        outbox.current.delete(clientId);
        dispatch({ type: "sendDiscard", room, clientId });
      },
      async edit(id, content) {
        const reply = await request<{ message: ChatMessage }>("editMessage", { id, content });
        if (!reply.ok) return reply.error.message;
        dispatch({ type: "edited", message: reply.message });
        return null;
      },
      async remove(id) {
        const reply = await request<object>("deleteMessage", { id });
        return reply.ok ? null : reply.error.message;
      },
      async loadOlder(room) {
        const r = stateRef.current.rooms[room];
        const before = r ? firstConfirmedId(r.messages) : null;
        if (!r || r.loadingOlder || !r.hasMore || before === null) return;
        dispatch({ type: "loadingOlder", room, loading: true });
        const page = await request<{ messages: ChatMessage[]; hasMore: boolean }>("history", { room, before, limit: PAGE_SIZE });
        if (page.ok) dispatch({ type: "page", room, messages: page.messages, hasMore: page.hasMore, older: true });
        else {
          dispatch({ type: "loadingOlder", room, loading: false });
          // Offline is already on the banner; scrolling up again retries.
          if (page.error.code !== "UNAVAILABLE" && page.error.code !== "TIMEOUT") dispatch({ type: "roomError", room, error: page.error.message });
        }
      },
      markViewed(room) {
        const r = stateRef.current.rooms[room];
        if (!r) return;
        dispatch({ type: "viewed", room });
        const last = lastConfirmedId(r.messages);
        if (last === null || lastMarked.current.get(room) === last || !chatRef.current?.connected) return;
        lastMarked.current.set(room, last);
        prefs.current.lastRead[room] = last;
        saveRoomPrefs(localStorage, meRef.current.username, prefs.current);
        void request("markRead", { room, messageId: last });
      },
      typingInput(room) {
        typer(room).input();
      },
      typingStop(room) {
        typer(room).stop();
      },
      setReply(room, message) {
        dispatch({ type: "replyTo", room, message });
      },
      async react(id, emoji, on) {
        const reply = await request<{ reactions: Reaction[] }>("react", { id, emoji, on });
        if (!reply.ok) return reply.error.message;
        const room = Object.values(stateRef.current.rooms).find((r) => r.messages.some((m) => m.id === id));
        if (room) dispatch({ type: "reactions", room: room.name, id, reactions: reply.reactions });
        return null;
      },
      async search(query) {
        const reply = await request<{ results: SearchResult[]; hasMore: boolean }>("search", { query, limit: 50 });
        return reply.ok ? { results: reply.results, error: null } : { results: [], error: reply.error.message };
      },
      async openAt(room, id) {
        await openRoom(room);
        const r = stateRef.current.rooms[room];
        if (r?.messages.some((m) => m.id === id)) {
          dispatch({ type: "focus", room, id });
          return;
        }
        // The newer side first: its first message is the one just after `id`,
        // so a page before that one ends with `id` itself.
        const newer = await request<{ messages: ChatMessage[]; hasMore: boolean }>("history", { room, after: id, limit: AROUND_PAGE });
        if (!newer.ok) {
          dispatch({ type: "roomError", room, error: newer.error.message });
          return;
        }
        const next = newer.messages[0];
        if (!next) {
          dispatch({ type: "focus", room, id });
          return;
        }
        const older = await request<{ messages: ChatMessage[]; hasMore: boolean }>("history", { room, before: next.id, limit: AROUND_PAGE });
        if (!older.ok) {
          dispatch({ type: "roomError", room, error: older.error.message });
          return;
        }
        dispatch({ type: "around", room, messages: [...older.messages, ...newer.messages], hasMore: older.hasMore, focus: id });
      },
      clearFocus(room) {
        dispatch({ type: "focus", room, id: null });
      },
    };
    return { actions, syncRoom, fetchRooms, applyUnread };
  }, [request, withToken, isViewing]);

  // (Re)join every room on each connect; then resend what failed meanwhile.
  useEffect(() => {
    if (generation === 0) return;
    lastMarked.current.clear();
    void (async () => {
      // Memberships first, so a second device shows every room of the user.
      const list = await fetchRooms();
      const removed = (room: string) => stateRef.current.rooms[room]?.removedBy;
      // A remembered room the user may no longer enter (removed or banned
      // while this device was away) leaves the sidebar instead of showing
      // an error forever.
      const member = (room: string) => list?.some((r) => r.room === room) ?? true;
      const rejoin = async (room: string) => {
        const err = await syncRoom(room);
        if (err?.code === "FORBIDDEN" && !member(room)) dispatch({ type: "removeRoom", room });
      };
      await Promise.all(stateRef.current.order.filter((room) => !removed(room)).map(rejoin));
      if (list) applyUnread(list);
      for (const [clientId, out] of outbox.current) {
        if (out.retryable && stateRef.current.sends[clientId]?.status === "failed") actions.retry(clientId);
      }
    })();
  }, [generation, actions, syncRoom, fetchRooms, applyUnread]);

  useEffect(() => {
    prefs.current = { ...prefs.current, order: state.order, active: state.active };
    saveRoomPrefs(localStorage, me.username, prefs.current);
  }, [state.order, state.active, me.username]);

  useChatEvents({ chat, notifications, me: me.username, dispatch, isViewing, stateRef, syncRoom, refreshRooms: actions.refreshRooms });

  return (
    <ActionsContext.Provider value={actions}>
      <StateContext.Provider value={state}>{children}</StateContext.Provider>
    </ActionsContext.Provider>
  );
}

export function useChatState(): ChatState {
  const v = useContext(StateContext);
  if (!v) throw new Error("useChatState outside ChatProvider");
  return v;
}

export function useChatActions(): ChatActions {
  const v = useContext(ActionsContext);
  if (!v) throw new Error("useChatActions outside ChatProvider");
  return v;
}

// Subscribes the chat reducer to server events on `/chat` and `/notifications`.

import { useEffect, type Dispatch, type MutableRefObject } from "react";
import type { Socket } from "socket.io-client";
import { roomLabel } from "../lib/rooms";
import type { ChatMessage, ChatNotification, Reaction } from "../lib/types";
import type { ChatAction, ChatState } from "./chatState";
import { useToasts } from "./ToastContext";

interface Deps {
  chat: Socket | null;
  notifications: Socket | null;
  me: string;
  dispatch: Dispatch<ChatAction>;
  isViewing(room: string): boolean;
  stateRef: MutableRefObject<ChatState>;
  /** Joins a room on the server without showing it. */
  syncRoom(room: string): Promise<unknown>;
  /** Asks the server for the user's rooms (after an invite). */
  refreshRooms(): Promise<void>;
}

export function useChatEvents({ chat, notifications, me, dispatch, isViewing, stateRef, syncRoom, refreshRooms }: Deps): void {
  const { push } = useToasts();

  useEffect(() => {
    if (!chat) return;
    const handlers: Record<string, (...args: never[]) => void> = {
      message: (m: ChatMessage) => dispatch({ type: "message", message: m, me, viewing: isViewing(m.room) }),
      previousMessages: (list: ChatMessage[]) => {
        const room = list[0]?.room;
        if (room) dispatch({ type: "page", room, messages: list });
      },
      messageEdited: (m: ChatMessage) => dispatch({ type: "edited", message: m }),
      messageDeleted: (d: { id: string; room: string }) => dispatch({ type: "deleted", room: d.room, id: d.id }),
      messageReactions: (r: { id: string; room: string; reactions: Reaction[] }) => dispatch({ type: "reactions", ...r }),
      typing: (t: { room: string; user: string; typing: boolean }) =>
        dispatch({ type: "typing", room: t.room, user: t.user, typing: t.typing, now: Date.now() }),
      read: (r: { room: string; user: string; messageId: string }) => dispatch({ type: "read", ...r, me }),
      userJoined: (u: { room: string; user: string }) => dispatch({ type: "joined", ...u }),
      userLeft: (u: { room: string; user: string }) => dispatch({ type: "left", ...u }),
      memberJoined: (e: { room: string }) => dispatch({ type: "membersChanged", room: e.room }),
      memberLeft: (e: { room: string }) => dispatch({ type: "membersChanged", room: e.room }),
      roomUpdated: (e: { room: string; topic: string; private: boolean; owner: string | null; user?: string; role?: "admin" | "member" }) => {
        const mine = e.user !== undefined && e.user.toLowerCase() === me.toLowerCase();
        const meta = { topic: e.topic, private: e.private, owner: e.owner, ...(mine && e.role ? { role: e.role } : {}) };
        dispatch({ type: "roomMeta", room: e.room, meta });
        dispatch({ type: "membersChanged", room: e.room });
      },
      removedFromRoom: (e: { room: string; by: string }) => {
        dispatch({ type: "removed", room: e.room, by: e.by });
        if (e.by.toLowerCase() !== me.toLowerCase()) push({ tone: "error", title: `You were removed from ${roomLabel(e.room, me)}`, body: `by ${e.by}` });
      },
      chatError: (e: { event: string; code: string; message: string }) => {
        // Typing is best effort; anything else the user should hear about.
        if (e.event !== "typing") push({ tone: "error", title: "Something went wrong", body: e.message });
      },
    };
    for (const [name, h] of Object.entries(handlers)) chat.on(name, h as (...args: unknown[]) => void);
    return () => {
      for (const [name, h] of Object.entries(handlers)) chat.off(name, h as (...args: unknown[]) => void);
    };
  }, [chat, me, dispatch, isViewing, push]);

  useEffect(() => {
    if (!notifications) return;
    const onNotification = (n: ChatNotification) => {
      if (n.type === "broadcast") {
        push({ tone: "info", title: `${n.user ?? "Someone"} broadcast`, body: n.message });
        return;
      }
      const room = n.room;
      if (!room) return;
      if (n.type === "invite") {
        void refreshRooms();
        push({ tone: "info", title: `${n.from ?? "Someone"} added you to ${roomLabel(room, me)}`, body: "", room });
        return;
      }
      // A first DM from someone: add the conversation to the list.
      if (!stateRef.current.rooms[room]) {
        dispatch({ type: "addRoom", room });
        void syncRoom(room);
      }
      const viewing = isViewing(room);
      dispatch({ type: "notified", room, viewing });
      if (viewing) return;
      const title = n.type === "dm" ? `New message from ${n.from}` : `${n.from} mentioned you in ${roomLabel(room, me)}`;
      push({ tone: "info", title, body: n.message, room });
    };
    notifications.on("notification", onNotification);
    return () => {
      notifications.off("notification", onNotification);
    };
  }, [notifications, me, dispatch, isViewing, stateRef, syncRoom, refreshRooms, push]);
}

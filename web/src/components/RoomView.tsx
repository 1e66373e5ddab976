// The open room: header with who is online, history, typing line, composer.

import { useEffect, useMemo, useState } from "react";
import { dmPeer, isDmRoom, roomLabel } from "../lib/rooms";
import { activeTypers, typingLabel } from "../lib/typing";
import { lastConfirmedId } from "../lib/merge";
import { useMe } from "../state/AuthContext";
import { useChatActions, useChatState } from "../state/ChatContext";
import { latestAvatars } from "../state/chatState";
import { Avatar } from "./Avatar";
import { Composer } from "./Composer";
import { MenuIcon, UsersIcon } from "./icons";
import { MembersPanel } from "./MembersPanel";
import { MessageList } from "./MessageList";

export function RoomView({ onOpenMenu }: { onOpenMenu(): void }) {
  const me = useMe();
  const state = useChatState();
  const { markViewed, leaveRoom, closeRoom } = useChatActions();
  const room = state.active ? state.rooms[state.active] : undefined;
  const [now, setNow] = useState(() => Date.now());
  const [showPeople, setShowPeople] = useState(false);
  const lastId = room ? lastConfirmedId(room.messages) : null;
  const messages = room?.messages;
  const avatars = useMemo(() => latestAvatars(messages ?? []), [messages]);
  const avatarOf = (u: string) => (u.toLowerCase() === me.username.toLowerCase() ? me.avatar : avatars.get(u.toLowerCase()));

  // Reading: mark the newest message read while the room is on screen.
  useEffect(() => {
    if (!room) return;
    const mark = () => document.visibilityState === "visible" && markViewed(room.name);
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [room?.name, lastId, room?.unread, markViewed]);

  // Typing indicators lapse on their own if a `typing: false` never comes.
  const typingUsers = room ? Object.keys(room.typing) : [];
  useEffect(() => {
    if (typingUsers.length === 0) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [typingUsers.length]);

  if (!room) {
    return (
      <section className="room room-empty">
        <button type="button" className="icon-btn menu-btn" aria-label="Open room list" onClick={onOpenMenu}>
          <MenuIcon />
        </button>
        <p>Join a room or start a direct message to begin.</p>
      </section>
    );
  }

  if (room.removedBy) {
    return (
      <section className="room" aria-labelledby="room-title">
        <div className="room-removed" data-testid="removed">
          <h2 id="room-title">{roomLabel(room.name, me.username)}</h2>
          <p>
            {room.removedBy.toLowerCase() === me.username.toLowerCase()
              ? "You left this room."
              : `You were removed from this room by ${room.removedBy}.`}{" "}
            You no longer receive its messages.
          </p>
          <button type="button" className="btn btn-small" onClick={() => closeRoom(room.name)}>
            Close
          </button>
        </div>
      </section>
    );
  }

  const label = roomLabel(room.name, me.username);
  const peer = dmPeer(room.name, me.username);
  const typers = activeTypers(room.typing, now, me.username);
  return (
    <section className="room" aria-labelledby="room-title">
      <header className="room-header">
        <button type="button" className="icon-btn menu-btn" aria-label="Open room list" onClick={onOpenMenu}>
          <MenuIcon />
        </button>
        <div className="room-title">
          <h2 id="room-title">{peer ? <>@{peer}</> : label}</h2>
          <span className="room-sub">{peer ? "Direct message" : `${room.meta?.private ? "Private · " : ""}${room.online.length} online`}</span>
          {room.meta?.topic && (
            <span className="room-topic" data-testid="topic">
              {room.meta.topic}
            </span>
          )}
        </div>
        <button
          type="button"
          className="people-btn"
          aria-expanded={showPeople}
          aria-controls="people-panel"
          onClick={() => setShowPeople((v) => !v)}
        >
          <span className="avatar-stack" aria-hidden="true">
            {room.online.slice(0, 3).map((u) => (
              <Avatar key={u} name={u} url={avatarOf(u)} size={24} />
            ))}
          </span>
          <UsersIcon />
          <span className="sr-only">Who is online</span>
          <span>{room.online.length}</span>
        </button>
        {isDmRoom(room.name) ? (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => closeRoom(room.name)}>
            Close
          </button>
        ) : (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => void leaveRoom(room.name)} title="Leave the room on every device">
            Leave
          </button>
        )}
      </header>
      {room.error && (
        <p className="room-error" role="alert">
          {room.error}
        </p>
      )}
      <div className="room-main">
        <div className="room-center">
          <MessageList key={`list:${room.name}`} room={room} me={me.username} sends={state.sends} label={label} />
          <div className="typing" aria-live="polite" data-testid="typing">
            {typers.length > 0 && (
              <>
                <span className="dots" aria-hidden="true">
                  <i />
                  <i />
                  <i />
                </span>
                {typingLabel(typers)}
              </>
            )}
          </div>
          <Composer key={`composer:${room.name}`} room={room.name} label={peer ? `@${peer}` : label} replyingTo={room.replyingTo} />
        </div>
        <aside id="people-panel" className={`people${showPeople ? " people-open" : ""}`} aria-label="People">
          <h3>Online — {room.online.length}</h3>
          <ul aria-label="Online" data-testid="online">
            {room.online.map((u) => (
              <li key={u}>
                <Avatar name={u} url={avatarOf(u)} size={28} online /> <span>{u}</span>
                {u.toLowerCase() === me.username.toLowerCase() && <span className="you">you</span>}
              </li>
            ))}
          </ul>
          <MembersPanel room={room} me={me.username} />
        </aside>
      </div>
    </section>
  );
}

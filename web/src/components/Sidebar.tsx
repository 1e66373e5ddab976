// Rooms and direct messages with unread counts; join, create and DM forms.

import { useState, type FormEvent } from "react";
import { dmPeer, isDmRoom, parseRoomInput } from "../lib/rooms";
import { badge } from "../lib/unread";
import { useMe } from "../state/AuthContext";
import { useChatActions, useChatState } from "../state/ChatContext";
import { Avatar } from "./Avatar";
import { LockIcon } from "./icons";
import { NewRoomDialog } from "./NewRoomDialog";
import { ProfileMenu } from "./ProfileMenu";
import { SearchBox } from "./SearchBox";

function JoinForm({ id, label, placeholder, action }: { id: string; label: string; placeholder: string; action(v: string): Promise<string | null> }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const err = await action(value);
    setError(err);
    if (!err) setValue("");
  };
  return (
    <form className="join-form" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <div className="join-row">
        <input id={id} value={value} placeholder={placeholder} onChange={(e) => setValue(e.target.value)} aria-invalid={error ? true : undefined} />
        <button type="submit" className="btn btn-small">
          Go
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function Sidebar({ onNavigate }: { onNavigate(): void }) {
  const me = useMe();
  const state = useChatState();
  const { openRoom, openDm, activate } = useChatActions();
  const [creating, setCreating] = useState(false);
  const rooms = state.order.filter((r) => !isDmRoom(r));
  const dms = state.order.filter(isDmRoom);

  const item = (room: string) => {
    const r = state.rooms[room];
    if (!r) return null;
    const peer = dmPeer(room, me.username);
    const active = state.active === room;
    const { count, mentioned } = r.unread;
    return (
      <li key={room}>
        <button
          type="button"
          className={`room-item${active ? " active" : ""}${count > 0 ? " unread" : ""}`}
          aria-current={active ? "page" : undefined}
          data-room={room}
          onClick={() => {
            activate(room);
            onNavigate();
          }}
        >
          {peer ? (
            <Avatar name={peer} size={24} online={r.online.some((u) => u.toLowerCase() === peer)} />
          ) : r.meta?.private ? (
            <span className="lock" title="Private room">
              <LockIcon />
              <span className="sr-only">private</span>
            </span>
          ) : (
            <span className="hash">#</span>
          )}
          <span className="room-name">{peer ?? room}</span>
          {mentioned && (
            <span className="mention-dot" title="You were mentioned">
              @
            </span>
          )}
          {count > 0 && (
            <span className="badge" aria-label={`${count} unread`}>
              {badge(r.unread)}
            </span>
          )}
        </button>
      </li>
    );
  };

  const join = async (v: string) => {
    const p = parseRoomInput(v);
    if ("error" in p) return p.error;
    const err = await openRoom(p.room);
    if (!err) onNavigate();
    return err;
  };
  const dm = async (v: string) => {
    const err = await openDm(v);
    if (!err) onNavigate();
    return err;
  };

  return (
    <nav className="sidebar" aria-label="Rooms">
      <div className="sidebar-top">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">◆</span> Chat
        </div>
        <ProfileMenu />
      </div>
      <SearchBox onNavigate={onNavigate} />
      <JoinForm id="join-room" label="Join or create a room" placeholder="room-name" action={join} />
      {creating ? (
        <NewRoomDialog onDone={() => setCreating(false)} />
      ) : (
        <button type="button" className="btn btn-small new-room-btn" onClick={() => setCreating(true)}>
          + New room
        </button>
      )}
      <h3 className="section-title">Rooms</h3>
      <ul className="room-list">{rooms.map(item)}</ul>
      <JoinForm id="dm-user" label="Message a user" placeholder="username" action={dm} />
      <h3 className="section-title">Direct messages</h3>
      <ul className="room-list">{dms.length > 0 ? dms.map(item) : <li className="empty">No conversations yet.</li>}</ul>
    </nav>
  );
}

// The members of the open room (v1.2 `members`): roles, online dots, and
// the actions the user's role allows: invite, remove, ban, promote/demote.

import { useEffect, useState, type FormEvent } from "react";
import type { Member, Role } from "../lib/types";
import { useChatActions } from "../state/ChatContext";
import type { RoomState } from "../state/chatState";
import { Avatar } from "./Avatar";

function canInvite(room: RoomState, role: Role | null): boolean {
  if (!role) return false;
  return room.meta?.private ? role === "owner" || role === "admin" : true;
}

export function MembersPanel({ room, me }: { room: RoomState; me: string }) {
  const actions = useChatActions();
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [invitee, setInvitee] = useState("");
  const [rev, setRev] = useState(0);
  const name = room.name;
  const isDm = name.startsWith("dm:");

  useEffect(() => {
    let live = true;
    void actions.members(name).then((r) => {
      if (!live) return;
      if (typeof r === "string") setError(r);
      else {
        setMembers(r);
        setError(null);
      }
    });
    return () => {
      live = false;
    };
  }, [actions, name, room.membersRev, room.online.length, rev]);

  const mine = members.find((m) => m.user.toLowerCase() === me.toLowerCase());
  const role = mine?.role ?? room.meta?.role ?? null;
  const moderates = role === "owner" || role === "admin";

  const run = async (p: Promise<string | null>) => {
    const err = await p;
    setError(err);
    setRev((v) => v + 1);
  };
  const invite = async (e: FormEvent) => {
    e.preventDefault();
    if (!invitee.trim()) return;
    const err = await actions.invite(name, invitee.trim());
    setError(err);
    if (!err) setInvitee("");
    setRev((v) => v + 1);
  };

  return (
    <section className="members" aria-label="Members" data-testid="members">
      <h3>Members — {members.length}</h3>
      <ul>
        {members.map((m) => {
          const self = m.user.toLowerCase() === me.toLowerCase();
          const removable = !isDm && !self && moderates && m.role !== "owner";
          return (
            <li key={m.user} data-member={m.user} data-role={m.role} data-online={m.online}>
              <Avatar name={m.user} size={24} online={m.online} />
              <span className="member-name">{m.user}</span>
              {m.role !== "member" && <span className={`role role-${m.role}`}>{m.role}</span>}
              {self && <span className="you">you</span>}
              {(removable || (role === "owner" && !self)) && (
                <span className="member-actions">
                  {role === "owner" && m.role !== "owner" && (
                    <button type="button" className="link-btn" onClick={() => run(actions.setRole(name, m.user, m.role === "admin" ? "member" : "admin"))}>
                      {m.role === "admin" ? "Demote" : "Make admin"}
                    </button>
                  )}
                  {removable && (
                    <>
                      <button type="button" className="link-btn" onClick={() => run(actions.removeMember(name, m.user, false))}>
                        Remove
                      </button>
                      <button type="button" className="link-btn danger" onClick={() => run(actions.removeMember(name, m.user, true))}>
                        Ban
                      </button>
                    </>
                  )}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {!isDm && canInvite(room, role) && (
        <form className="invite-form" onSubmit={invite}>
          <label htmlFor="invite-user" className="sr-only">
            Invite a user
          </label>
          <input id="invite-user" value={invitee} placeholder="Invite a username" onChange={(e) => setInvitee(e.target.value)} />
          <button type="submit" className="btn btn-small">
            Invite
          </button>
        </form>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

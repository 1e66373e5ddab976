// "New room": a name, public or private, and an optional topic (v1.2
// `createRoom`); the caller becomes the room's owner.

import { useState, type FormEvent } from "react";
import { parseRoomInput } from "../lib/rooms";
import { useChatActions } from "../state/ChatContext";

export function NewRoomDialog({ onDone }: { onDone(): void }) {
  const { createRoom } = useChatActions();
  const [name, setName] = useState("");
  const [isPrivate, setPrivate] = useState(true);
  const [topic, setTopic] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = parseRoomInput(name);
    if ("error" in p) return setError(p.error);
    setBusy(true);
    const err = await createRoom(p.room, isPrivate, topic.trim());
    setBusy(false);
    setError(err);
    if (!err) onDone();
  };

  return (
    <form className="join-form new-room" onSubmit={submit} aria-label="New room" data-testid="new-room">
      <label htmlFor="new-room-name">Room name</label>
      <input id="new-room-name" value={name} placeholder="room-name" onChange={(e) => setName(e.target.value)} aria-invalid={error ? true : undefined} />
      <fieldset className="visibility">
        <legend className="sr-only">Who may join</legend>
        <label>
          <input type="radio" name="visibility" checked={isPrivate} onChange={() => setPrivate(true)} /> Private (invite only)
        </label>
        <label>
          <input type="radio" name="visibility" checked={!isPrivate} onChange={() => setPrivate(false)} /> Public
        </label>
      </fieldset>
      <label htmlFor="new-room-topic">Topic (optional)</label>
      <input id="new-room-topic" value={topic} maxLength={250} placeholder="What is it about?" onChange={(e) => setTopic(e.target.value)} />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="join-row">
        <button type="submit" className="btn btn-small" disabled={busy}>
          Create
        </button>
        <button type="button" className="btn btn-small" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

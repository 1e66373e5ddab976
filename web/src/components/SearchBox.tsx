// Searching messages: the results of the server's `search`, grouped by room,
// matched words highlighted from `matches`; a result opens its room at that
// message.

import { useState, type FormEvent } from "react";
import { formatTime } from "../lib/format";
import { roomLabel } from "../lib/rooms";
import { groupByRoom, highlight, type RoomResults } from "../lib/search";
import { useMe } from "../state/AuthContext";
import { useChatActions } from "../state/ChatContext";

const MAX_QUERY = 200;

export function SearchBox({ onNavigate }: { onNavigate(): void }) {
  const me = useMe();
  const { search, openAt } = useChatActions();
  const [query, setQuery] = useState("");
  const [groups, setGroups] = useState<RoomResults[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const q = query.trim();
    if (!q) {
      setGroups(null);
      return;
    }
    setBusy(true);
    const res = await search(q);
    setBusy(false);
    setError(res.error);
    setGroups(res.error ? null : groupByRoom(res.results));
  };

  return (
    <div className="search">
      <form className="join-form" role="search" onSubmit={submit}>
        <label htmlFor="search-messages">Search messages</label>
        <div className="join-row">
          <input
            id="search-messages"
            type="search"
            value={query}
            maxLength={MAX_QUERY}
            placeholder="words to find"
            onChange={(e) => {
              setQuery(e.target.value);
              if (!e.target.value) setGroups(null);
            }}
          />
          <button type="submit" className="btn btn-small" disabled={busy}>
            Find
          </button>
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
      {groups && (
        <div className="search-results" data-testid="search-results" aria-live="polite">
          {groups.length === 0 && <p className="empty">No messages found.</p>}
          {groups.map((g) => (
            <section key={g.room} className="search-group" aria-label={`Results in ${roomLabel(g.room, me.username)}`}>
              <h4>{roomLabel(g.room, me.username)}</h4>
              <ul>
                {g.results.map((r) => (
                  <li key={r.message.id}>
                    <button
                      type="button"
                      className="search-hit"
                      data-id={r.message.id}
                      onClick={() => {
                        void openAt(r.message.room, r.message.id);
                        onNavigate();
                      }}
                    >
                      <span className="search-meta">
                        {r.message.sender} · {formatTime(r.message.timestamp)}
                      </span>
                      <span className="search-text">
                        {highlight(r.message.content, r.matches).map((s, i) => (s.hit ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
    </div>
  );
}

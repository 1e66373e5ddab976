// One message, memoised: a row re-renders only when its own props change.

import { memo, useState, type KeyboardEvent } from "react";
import { formatTime } from "../lib/format";
import { COMMON_EMOJI, reactedByMe, reactionTitle } from "../lib/reactions";
import type { SendState } from "../lib/sendState";
import type { ChatMessage } from "../lib/types";
import { useChatActions } from "../state/ChatContext";
import { Avatar } from "./Avatar";
import { CheckIcon, ClockIcon, PencilIcon, TrashIcon } from "./icons";
import { Attachments, MessageText } from "./MessageContent";

interface Props {
  message: ChatMessage;
  startsGroup: boolean;
  /** Last of its sender's run: where the "Sent" mark goes. */
  endsGroup: boolean;
  mine: boolean;
  me: string;
  sendState: SendState | undefined;
  /** Other users whose read position is this message, comma-separated. */
  seenBy: string;
  senderOnline: boolean;
}

export const MessageRow = memo(function MessageRow({ message: m, startsGroup, endsGroup, mine, me, sendState, seenBy, senderOnline }: Props) {
  const { retry, discard, edit, remove, react, setReply, openAt } = useChatActions();
  const [picking, setPicking] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(m.content);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const time = formatTime(m.timestamp);
  const failed = sendState?.status === "failed" && m.pending;
  const reactions = m.reactions ?? [];
  const toggle = async (emoji: string, on: boolean) => {
    setPicking(false);
    setError(await react(m.id, emoji, on));
  };

  const saveEdit = async () => {
    const content = draft.trim();
    if (content === m.content || content.length === 0) {
      setEditing(false);
      return;
    }
    const err = await edit(m.id, content);
    setError(err);
    if (!err) setEditing(false);
  };
  const onEditKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void saveEdit();
    } else if (e.key === "Escape") {
      setEditing(false);
      setDraft(m.content);
    }
  };

  const cls = ["msg", startsGroup && "msg-start", mine && "msg-mine", m.pending && "msg-pending", failed && "msg-failed", m.deleted && "msg-deleted"]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={cls} data-id={m.id} data-sender={m.sender}>
      <div className="msg-gutter">
        {startsGroup ? (
          <Avatar name={m.sender} url={m.avatar} online={senderOnline} />
        ) : (
          <time className="msg-hover-time" dateTime={m.timestamp}>
            {time}
          </time>
        )}
      </div>
      <div className="msg-body">
        {startsGroup && (
          <div className="msg-meta">
            <span className="msg-sender">{m.sender}</span>
            <time dateTime={m.timestamp}>{time}</time>
          </div>
        )}
        {m.replyTo && (
          <button
            type="button"
            className="reply-quote"
            data-testid="reply-quote"
            title="Show the original message"
            onClick={() => m.replyTo && void openAt(m.room, m.replyTo.id)}
          >
            <span className="reply-sender">{m.replyTo.sender}</span>
            <span className="reply-excerpt">{m.replyTo.excerpt || "The original message was deleted."}</span>
          </button>
        )}
        {m.deleted ? (
          <p className="text text-deleted">This message was deleted.</p>
        ) : editing ? (
          <div className="edit-box">
            <label className="sr-only" htmlFor={`edit-${m.id}`}>
              Edit message
            </label>
            <textarea id={`edit-${m.id}`} value={draft} autoFocus rows={2} onChange={(e) => setDraft(e.target.value)} onKeyDown={onEditKey} />
            <div className="edit-actions">
              <span className="hint">Enter to save · Esc to cancel</span>
              <button type="button" className="btn btn-small" onClick={() => setEditing(false)}>
                Cancel
              </button>
              <button type="button" className="btn btn-small btn-primary" onClick={() => void saveEdit()}>
                Save
              </button>
            </div>
          </div>
        ) : (
          <MessageText content={m.content} me={me} />
        )}
        {!m.deleted && <Attachments items={m.attachments} />}
        {!m.deleted && reactions.length > 0 && (
          <div className="reactions" data-testid="reactions">
            {reactions.map((r) => {
              const own = reactedByMe(r, me);
              return (
                <button
                  key={r.emoji}
                  type="button"
                  className={`reaction${own ? " reaction-mine" : ""}`}
                  aria-pressed={own}
                  title={reactionTitle(r)}
                  aria-label={`${reactionTitle(r)}${own ? " (click to remove yours)" : ""}`}
                  onClick={() => void toggle(r.emoji, !own)}
                >
                  <span aria-hidden="true">{r.emoji}</span> <span className="reaction-count">{r.count}</span>
                </button>
              );
            })}
          </div>
        )}
        <div className="msg-status">
          {m.editedAt && !m.deleted && <span className="edited">(edited)</span>}
          {mine && m.pending && sendState?.status !== "failed" && (
            <span className="state state-sending">
              <ClockIcon /> Sending…
            </span>
          )}
          {mine && endsGroup && !m.pending && sendState?.status === "sent" && (
            <span className="state state-sent" title="Sent">
              <CheckIcon /> Sent
            </span>
          )}
          {failed && sendState?.status === "failed" && m.clientId && (
            <span className="state state-failed" role="alert">
              Not sent: {sendState.error}
              <button type="button" className="link" onClick={() => retry(m.clientId ?? "")}>
                Retry
              </button>
              <button type="button" className="link" onClick={() => discard(m.room, m.clientId ?? "")}>
                Discard
              </button>
            </span>
          )}
          {seenBy && <span className="seen">Seen by {seenBy}</span>}
          {error && (
            <span className="state state-failed" role="alert">
              {error}
            </span>
          )}
        </div>
      </div>
      {!m.deleted && !m.pending && !editing && (
        <div className="msg-actions">
          {picking && (
            <div className="emoji-picker" role="menu" aria-label="Pick a reaction">
              {COMMON_EMOJI.map((e) => (
                <button key={e} type="button" role="menuitem" className="emoji-choice" aria-label={`React with ${e}`} onClick={() => void toggle(e, true)}>
                  {e}
                </button>
              ))}
            </div>
          )}
          {!confirmDelete && (
            <>
              <button type="button" className="icon-btn" aria-label="Add reaction" title="React" aria-expanded={picking} onClick={() => setPicking((v) => !v)}>
                <span aria-hidden="true">☺</span>
              </button>
              <button type="button" className="icon-btn" aria-label="Reply" title="Reply" onClick={() => setReply(m.room, m)}>
                <span aria-hidden="true">↩</span>
              </button>
            </>
          )}
          {mine && (confirmDelete ? (
            <>
              <button
                type="button"
                className="btn btn-small btn-danger"
                onClick={async () => {
                  setError(await remove(m.id));
                  setConfirmDelete(false);
                }}
              >
                Delete
              </button>
              <button type="button" className="btn btn-small" onClick={() => setConfirmDelete(false)}>
                Keep
              </button>
            </>
          ) : (
            <>
              <button
                type="button"
                className="icon-btn"
                aria-label="Edit message"
                title="Edit"
                onClick={() => {
                  setDraft(m.content);
                  setEditing(true);
                }}
              >
                <PencilIcon />
              </button>
              <button type="button" className="icon-btn" aria-label="Delete message" title="Delete" onClick={() => setConfirmDelete(true)}>
                <TrashIcon />
              </button>
            </>
          ))}
        </div>
      )}
    </div>
  );
});

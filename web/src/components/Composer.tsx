// Writing a message: Enter sends, Shift+Enter adds a line, files attach by
// picker, paste or drop; typing is reported (throttled) while writing.

import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from "react";
import { formatSize } from "../lib/format";
import type { ChatMessage } from "../lib/types";
import { useChatActions } from "../state/ChatContext";
import { CloseIcon, PaperclipIcon, SendIcon } from "./icons";

const MAX_CHARS = 4000;
const MAX_BYTES = 10 * 1024 * 1024;

export function Composer({ room, label, disabled, replyingTo }: { room: string; label: string; disabled?: boolean; replyingTo?: ChatMessage | null }) {
  const { send, typingInput, typingStop, setReply } = useChatActions();
  const [text, setText] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const length = [...text.trim()].length;
  // Choosing "Reply" moves the cursor here.
  useEffect(() => {
    if (replyingTo) input.current?.focus();
  }, [replyingTo]);

  const addFiles = (list: FileList | File[]) => {
    const picked = [...list];
    const tooBig = picked.find((f) => f.size > MAX_BYTES);
    if (tooBig) setError(`${tooBig.name} is larger than 10 MB.`);
    setFiles((fs) => [...fs, ...picked.filter((f) => f.size <= MAX_BYTES)].slice(0, 10));
  };

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (length === 0 && files.length === 0) return;
    if (length > MAX_CHARS) {
      setError(`Messages can be at most ${MAX_CHARS} characters.`);
      return;
    }
    send(room, text, files);
    setText("");
    setFiles([]);
    setError(null);
    input.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  const onPaste = (e: ClipboardEvent) => {
    if (e.clipboardData.files.length > 0) {
      e.preventDefault();
      addFiles(e.clipboardData.files);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer.files.length > 0) addFiles(e.dataTransfer.files);
  };

  const inputId = `composer-${room}`;
  return (
    <form
      className={`composer${dragging ? " composer-drop" : ""}`}
      onSubmit={submit}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      {replyingTo && (
        <div className="reply-draft" data-testid="reply-draft">
          <div className="reply-quote reply-quote-static">
            <span className="reply-sender">Replying to {replyingTo.sender}</span>
            <span className="reply-excerpt">{[...replyingTo.content].slice(0, 100).join("")}</span>
          </div>
          <button type="button" className="icon-btn" aria-label="Cancel reply" onClick={() => setReply(room, null)}>
            <CloseIcon />
          </button>
        </div>
      )}
      {files.length > 0 && (
        <ul className="chips" aria-label="Attachments to send">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`} className="chip">
              <span className="chip-name">{f.name}</span>
              <span className="chip-size">{formatSize(f.size)}</span>
              <button type="button" className="icon-btn" aria-label={`Remove ${f.name}`} onClick={() => setFiles((fs) => fs.filter((_, j) => j !== i))}>
                <CloseIcon />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        <input
          id={`${inputId}-file`}
          type="file"
          multiple
          className="sr-only"
          onChange={(e) => {
            if (e.target.files) addFiles(e.target.files);
            e.target.value = "";
          }}
        />
        <label htmlFor={`${inputId}-file`} className="icon-btn attach" title="Attach files">
          <PaperclipIcon />
          <span className="sr-only">Attach files</span>
        </label>
        <label htmlFor={inputId} className="sr-only">
          Message {label}
        </label>
        <textarea
          id={inputId}
          ref={input}
          rows={1}
          value={text}
          placeholder={`Message ${label}`}
          disabled={disabled}
          onChange={(e) => {
            setText(e.target.value);
            if (e.target.value.trim()) typingInput(room);
            else typingStop(room);
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={() => typingStop(room)}
        />
        <button type="submit" className="send-btn" aria-label="Send message" disabled={disabled || (length === 0 && files.length === 0)}>
          <SendIcon />
        </button>
      </div>
      <div className="composer-foot">
        {error ? (
          <span className="form-error" role="alert">
            {error}
          </span>
        ) : (
          <span className="hint">
            <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line
          </span>
        )}
        {length > MAX_CHARS - 200 && <span className={length > MAX_CHARS ? "form-error" : "hint"}>{MAX_CHARS - length}</span>}
      </div>
    </form>
  );
}

import { useChatActions } from "../state/ChatContext";
import { useToasts } from "../state/ToastContext";
import { CloseIcon } from "./icons";

export function Toasts() {
  const { toasts, dismiss } = useToasts();
  const { activate } = useChatActions();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone}`} role={t.tone === "error" ? "alert" : "status"}>
          <button
            type="button"
            className="toast-body"
            onClick={() => {
              if (t.room) activate(t.room);
              dismiss(t.id);
            }}
          >
            <strong>{t.title}</strong>
            {t.body && <span>{t.body}</span>}
          </button>
          <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            <CloseIcon />
          </button>
        </div>
      ))}
    </div>
  );
}

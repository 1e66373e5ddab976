import { useSocket } from "../state/SocketContext";

const TEXT = {
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  offline: "You are offline. Messages will catch up when the connection is back.",
} as const;

export function ConnectionBanner() {
  const { status } = useSocket();
  return (
    <div className={`conn-banner conn-${status}`} role="status" aria-live="polite" data-status={status}>
      {status === "connected" ? null : (
        <>
          <span className="spinner" aria-hidden="true" />
          {TEXT[status]}
        </>
      )}
    </div>
  );
}

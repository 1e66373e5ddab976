import { useEffect, useState } from "react";
import { AuthScreen } from "./components/AuthScreen";
import { ConnectionBanner } from "./components/ConnectionBanner";
import { RoomView } from "./components/RoomView";
import { Sidebar } from "./components/Sidebar";
import { Toasts } from "./components/Toasts";
import { AuthProvider, useAuth } from "./state/AuthContext";
import { ChatProvider, useChatState } from "./state/ChatContext";
import { SocketProvider } from "./state/SocketContext";
import { ToastProvider } from "./state/ToastContext";

function ChatLayout() {
  const [menuOpen, setMenuOpen] = useState(false);
  const state = useChatState();
  const unread = Object.values(state.rooms).reduce((n, r) => n + r.unread.count, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Chat` : "Chat";
  }, [unread]);
  return (
    <div className={`layout${menuOpen ? " menu-open" : ""}`}>
      <ConnectionBanner />
      <Sidebar onNavigate={() => setMenuOpen(false)} />
      <div className="scrim" onClick={() => setMenuOpen(false)} aria-hidden="true" />
      <main className="main">
        <RoomView onOpenMenu={() => setMenuOpen(true)} />
      </main>
      <Toasts />
    </div>
  );
}

function Root() {
  const { session } = useAuth();
  if (!session) return <AuthScreen />;
  return (
    <SocketProvider>
      <ChatProvider key={session.user.id}>
        <ChatLayout />
      </ChatProvider>
    </SocketProvider>
  );
}

export function App() {
  return (
    <ToastProvider>
      <AuthProvider>
        <Root />
      </AuthProvider>
    </ToastProvider>
  );
}

// The signed-in user: avatar upload, account and security, log out.

import { useEffect, useRef, useState } from "react";
import * as api from "../api/http";
import { useAuth, useMe } from "../state/AuthContext";
import { useToasts } from "../state/ToastContext";
import { AccountDialog } from "./AccountDialog";
import { Avatar } from "./Avatar";

export function ProfileMenu() {
  const me = useMe();
  const { logout, withToken, updateUser } = useAuth();
  const { push } = useToasts();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [account, setAccount] = useState(false);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === "Escape" : !root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", close);
    };
  }, [open]);

  const uploadAvatar = async (file: File) => {
    setBusy(true);
    try {
      const media = await withToken((t) => api.upload(t, "avatar", file));
      updateUser({ ...me, avatar: media.url });
      push({ tone: "info", title: "Avatar updated" });
      setOpen(false);
    } catch (e) {
      push({ tone: "error", title: "Avatar not changed", body: e instanceof Error ? e.message : undefined });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="profile" ref={root}>
      <button type="button" className="profile-btn" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((v) => !v)}>
        <Avatar name={me.username} url={me.avatar} size={32} online />
        <span className="profile-name">{me.username}</span>
        <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div className="profile-menu" role="menu">
          <input
            id="avatar-file"
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            className="sr-only"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void uploadAvatar(f);
              e.target.value = "";
            }}
          />
          <label htmlFor="avatar-file" className="menu-item" role="menuitem" tabIndex={0} onKeyDown={(e) => e.key === "Enter" && e.currentTarget.click()}>
            {busy ? "Uploading…" : "Change avatar…"}
          </label>
          <button
            type="button"
            className="menu-item"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              setAccount(true);
            }}
          >
            Account &amp; security…
          </button>
          <button type="button" className="menu-item" role="menuitem" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      )}
      {account && <AccountDialog onClose={() => setAccount(false)} />}
    </div>
  );
}

// Wire shapes from the client contract (/work/shared/PROTOCOL.md).

export interface Attachment {
  id: string;
  url: string;
  contentType: string;
  size: number;
  name: string;
}

export interface ChatMessage {
  id: string;
  room: string;
  sender: string;
  content: string;
  avatar: string | null;
  timestamp: string;
  clientId?: string | null;
  attachments: Attachment[];
  editedAt: string | null;
  deleted: boolean;
  /** Set only on local, not yet acknowledged sends (id is `local:<clientId>`). */
  pending?: boolean;
}

export interface User {
  id: string;
  username: string;
  avatar: string | null;
}

export interface ApiError {
  code: string;
  message: string;
}

export type AckReply<T> = ({ ok: true } & T) | { ok: false; error: ApiError };

export interface ChatNotification {
  type: "mention" | "dm" | "broadcast" | "invite";
  room?: string;
  messageId?: string;
  from?: string;
  user?: string;
  message: string;
  timestamp?: string;
}

export type Role = "owner" | "admin" | "member";

/** A room summary (`createRoom`, `rooms`), v1.2. */
export interface RoomSummary {
  room: string;
  private: boolean;
  topic: string;
  owner: string | null;
  role: Role | null;
  unread?: number;
  lastMessage?: ChatMessage | null;
}

export interface Member {
  user: string;
  role: Role;
  online: boolean;
}

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
  /** v1.2: the message this one answers, as it reads now. */
  replyTo?: ReplyRef | null;
  /** v1.2: in the order each emoji first appeared. */
  reactions?: Reaction[];
  /** Set only on local, not yet acknowledged sends (id is `local:<clientId>`). */
  pending?: boolean;
}

export interface ReplyRef {
  id: string;
  sender: string;
  /** The first 100 characters; empty once the original is deleted. */
  excerpt: string;
}

export interface Reaction {
  emoji: string;
  count: number;
  users: string[];
}

/** One `search` result: `matches` are [start, end) code-point offsets in `content`. */
export interface SearchResult {
  message: ChatMessage;
  matches: [number, number][];
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

// Message text and attachments. Content is rendered as React text nodes,
// never as HTML.

import { Fragment, memo } from "react";
import { formatSize } from "../lib/format";
import type { Attachment } from "../lib/types";
import { FileIcon } from "./icons";

const MENTION = /(@[A-Za-z0-9_.-]*[A-Za-z0-9_-])/g;

export const MessageText = memo(function MessageText({ content, me }: { content: string; me: string }) {
  const parts = content.split(MENTION);
  return (
    <p className="text">
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          <span key={i} className={part.slice(1).toLowerCase() === me.toLowerCase() ? "mention mention-me" : "mention"}>
            {part}
          </span>
        ) : (
          <Fragment key={i}>{part}</Fragment>
        ),
      )}
    </p>
  );
});

export const Attachments = memo(function Attachments({ items }: { items: Attachment[] }) {
  if (items.length === 0) return null;
  return (
    <div className="attachments">
      {items.map((a) =>
        a.contentType.startsWith("image/") && a.url ? (
          <a key={a.id} className="thumb" href={a.url} target="_blank" rel="noopener noreferrer">
            <img src={a.url} alt={a.name} loading="lazy" />
          </a>
        ) : (
          <a key={a.id} className="file" href={a.url || undefined} download={a.name} rel="noopener noreferrer">
            <FileIcon />
            <span className="file-name">{a.name}</span>
            <span className="file-size">{formatSize(a.size)}</span>
          </a>
        ),
      )}
    </div>
  );
});

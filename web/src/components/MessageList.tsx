// The scrolling history of one room, virtualised so thousands of messages
// stay smooth: only rows near the viewport are in the DOM. Anchored to the
// end like a chat: it follows new messages while the reader is at the
// bottom, keeps the reader's place when older pages are prepended, and
// offers a jump back down otherwise.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { groupMessages, type Row } from "../lib/grouping";
import type { SendState } from "../lib/sendState";
import { useChatActions } from "../state/ChatContext";
import { receiptsByMessage, type RoomState } from "../state/chatState";
import { MessageRow } from "./MessageRow";

interface Props {
  room: RoomState;
  me: string;
  sends: Readonly<Record<string, SendState>>;
  label: string;
}

const NEAR_TOP_PX = 400;
const NEAR_BOTTOM_PX = 80;
/** Height of the "load older" strip above the rows (fixed in CSS). */
const TOP_PX = 48;

function estimate(r: Row | undefined): number {
  if (!r) return 40;
  const extra = (r.message.attachments.length > 0 ? 250 : 0) + (r.dayLabel ? 40 : 0);
  return (r.startsGroup ? 58 : 26) + extra;
}

export function MessageList({ room, me, sends, label }: Props) {
  const { loadOlder, clearFocus } = useChatActions();
  const [flash, setFlash] = useState<string | null>(null);
  const rows = useMemo(() => groupMessages(room.messages), [room.messages]);
  const receipts = useMemo(() => receiptsByMessage(room.messages, room.reads, me), [room.messages, room.reads, me]);
  const online = useMemo(() => new Set(room.online.map((u) => u.toLowerCase())), [room.online]);
  const scroller = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  const [showJump, setShowJump] = useState(false);
  const meLower = me.toLowerCase();

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (i) => estimate(rows[i]),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 8,
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: NEAR_BOTTOM_PX,
    scrollMargin: TOP_PX,
    paddingEnd: 12,
  });

  const requestOlder = () => {
    if (room.hasMore && !room.loadingOlder) void loadOlder(room.name);
  };

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atEnd.current) setShowJump(false);
    if (el.scrollTop < NEAR_TOP_PX) requestOlder();
  };

  // Open a room at its newest message (once: the list is keyed by room).
  useLayoutEffect(() => {
    virtualizer.scrollToEnd();
  }, []);

  const jump = () => {
    virtualizer.scrollToEnd();
    atEnd.current = true;
    setShowJump(false);
  };
  // New rows at the end, or inserted before my pending sends by a catch-up:
  // follow them while at the bottom, else offer a jump. A prepend (older
  // history) changes the first row and is left to the virtualiser's anchor.
  const firstKey = rows[0]?.key;
  const lastRow = rows[rows.length - 1];
  const prev = useRef({ first: firstKey, last: lastRow?.key, count: rows.length });
  useLayoutEffect(() => {
    const p = prev.current;
    prev.current = { first: firstKey, last: lastRow?.key, count: rows.length };
    const newLast = lastRow?.key !== p.last;
    if (newLast && lastRow?.message.pending && lastRow.message.sender.toLowerCase() === meLower) jump();
    else if (newLast || (rows.length > p.count && firstKey === p.first)) {
      if (atEnd.current) virtualizer.scrollToEnd();
      else setShowJump(true);
    }
  }, [firstKey, lastRow, rows.length]);

  // A reply's original or a search result: scroll it to the middle and flash it.
  useLayoutEffect(() => {
    const id = room.focus;
    if (!id) return;
    const i = rows.findIndex((r) => r.message.id === id);
    if (i < 0) return;
    atEnd.current = false;
    virtualizer.scrollToIndex(i, { align: "center" });
    setFlash(id);
    clearFocus(room.name);
  }, [room.focus, rows]);
  useEffect(() => {
    if (!flash) return;
    const t = setTimeout(() => setFlash(null), 2500);
    return () => clearTimeout(t);
  }, [flash]);

  const renderRow = (r: Row) => {
    const m = r.message;
    return (
      <>
        {r.dayLabel && (
          <div className="day-sep" role="separator">
            <span>{r.dayLabel}</span>
          </div>
        )}
        <MessageRow
        message={m}
        startsGroup={r.startsGroup}
        endsGroup={r.endsGroup}
        mine={m.sender.toLowerCase() === meLower}
        me={me}
        sendState={m.clientId ? sends[m.clientId] : undefined}
        seenBy={receipts.get(m.id)?.join(", ") ?? ""}
        senderOnline={online.has(m.sender.toLowerCase())}
        />
      </>
    );
  };

  return (
    <div className="messages-wrap">
      <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-label={`Messages in ${label}`} tabIndex={0}>
        <div className="history-top" style={{ height: TOP_PX }}>
          {room.hasMore ? (
            <button type="button" className="btn btn-small" onClick={requestOlder} disabled={room.loadingOlder}>
              {room.loadingOlder ? "Loading…" : "Load older messages"}
            </button>
          ) : (
            <p className="history-start">{room.loaded ? `This is the start of ${label}.` : "Loading messages…"}</p>
          )}
        </div>
        <ol className="message-rows" style={{ height: virtualizer.getTotalSize() - TOP_PX }}>
          {virtualizer.getVirtualItems().map((vi) => {
            const r = rows[vi.index];
            if (!r) return null;
            return (
              <li key={vi.key} className={r.message.id === flash ? "vrow vrow-focus" : "vrow"} data-index={vi.index} ref={virtualizer.measureElement} style={{ transform: `translateY(${vi.start - TOP_PX}px)` }}>
                {renderRow(r)}
              </li>
            );
          })}
        </ol>
      </div>
      {showJump && (
        <button type="button" className="jump" onClick={jump}>
          New messages ↓
        </button>
      )}
    </div>
  );
}

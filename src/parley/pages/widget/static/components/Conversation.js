// The conversation: role=log named "Conversation", one entry per message, file or notice, oldest first; who is
// typing; receipts under the customer's latest message while the chat has two participants. The log is the polite
// live region that announces new messages and notices; it stays quiet (aria-live=off) until the transcript has been
// read once, so a reloaded conversation is not read out again.
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { html } from "./html.js";
import { Entry } from "./Entry.js";

const NEAR_BOTTOM_PX = 96;

export function Conversation({ chat, adapter, emptyText }) {
  const entries = chat.entries.value;
  const scroller = useRef(null);
  const stick = useRef(true);
  const receiptsOn = chat.receiptsOn.value;
  const receipts = chat.receipts.value;
  const mine = entries.filter((e) => e.mine && !e.pending && e.kind !== "notice");
  const receiptFor = receiptsOn ? mine.map((e) => e.id).reverse().find((id) => receipts.has(id)) : null;
  let lastMineIndex = -1;
  entries.forEach((e, i) => { if (e.mine) lastMineIndex = i; });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => {
    const el = scroller.current;
    const onScroll = () => { stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX; };
    el.addEventListener("scroll", onScroll, { passive: true });
    // Entries grow after they render (an image preview loads, Markdown replaces its plain text): stay at the end.
    const resized = new ResizeObserver(() => { if (stick.current) el.scrollTop = el.scrollHeight; });
    resized.observe(el.querySelector(".entries"));
    resized.observe(el);
    return () => { el.removeEventListener("scroll", onScroll); resized.disconnect(); };
  }, []);

  return html`
    <div class="conversation" ref=${scroller} tabIndex="0" role="log" aria-label="Conversation"
      aria-live=${chat.historyLoaded.value ? "polite" : "off"} aria-relevant="additions">
      ${entries.length === 0 && html`<p class="empty">${chat.loadingHistory.value ? "Loading the conversation…" : emptyText}</p>`}
      <ol class="entries">
        ${entries.map((entry, index) => html`
          <${Entry} key=${entry.id} entry=${entry} chat=${chat} adapter=${adapter}
            party=${chat.participants.value.get(entry.participantId)}
            answered=${index < lastMineIndex || chat.phase.value === "ended"}
            receipt=${entry.id === receiptFor ? receipts.get(entry.id) : ""} />`)}
      </ol>
    </div>`;
}

// The conversation log of one chat (role=log "Conversation"): every item once, parties told apart by colour,
// who is typing, receipts under my messages while only two parties are in the chat. Its scroll position is kept
// per chat while the agent looks at another one.
import { html } from "../html.js";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { now } from "../state.js";
import { markRead } from "../adapter/actions.js";
import { Message } from "./Message.js";

const AT_BOTTOM = 40;
const WINDOW = 200; // the newest items shown at first; "Show earlier messages" adds as many again

// Parties told apart by colour the same way on every screen: the customer, then agents in the order they joined
// (the transcript's order), then anyone the transcript does not show yet.
export function partyColours(view, items) {
  const colours = new Map();
  let next = 1;
  const add = (id, role) => {
    if (!id || colours.has(id)) { return; }
    colours.set(id, role === "CUSTOMER" ? "customer" : role === "SYSTEM" ? "system" : String(Math.min(6, next++)));
  };
  for (const item of items) { add(item.ParticipantId, item.ParticipantRole); }
  for (const p of view.parties) { add(p.id, p.kind === "customer" ? "CUSTOMER" : "AGENT"); }
  return colours;
}

const JOINED = "application/vnd.amazonaws.connect.event.participant.joined";
const LEFT = "application/vnd.amazonaws.connect.event.participant.left";

// The newest item (from the end) that passes the test.
function newest(items, test) {
  for (let i = items.length - 1; i >= 0; i -= 1) { if (test(items[i])) { return items[i]; } }
  return null;
}

// Who is typing, on its own so that the clock's tick renders only this line.
function Typing({ chat }) {
  const typing = Object.values(chat.typing.value).filter((t) => t.until > now.value).map((t) => t.name);
  return html`<p class="typing" role="status">${typing.length ? `${typing.join(", ")} ${typing.length > 1 ? "are" : "is"} typing…` : ""}</p>`;
}

// How many parties the transcript says are in the chat now (joined and not left).
function inChat(items) {
  const present = new Set();
  for (const item of items) {
    if (item.ContentType === JOINED) { present.add(item.ParticipantId); }
    if (item.ContentType === LEFT) { present.delete(item.ParticipantId); }
  }
  return present.size;
}

export function Transcript({ view, chat, parties, colours }) {
  const box = useRef(null);
  const items = chat.items.value;
  const me = chat.me.value || view.me;
  const live = chat.link.value === "connected" || chat.link.value === "lost";
  // Only the newest `chat.shown` items are rendered. While the agent reads earlier messages (scrolled up, here or
  // before switching chats), new items widen the window instead of pushing the top one out, so nothing moves.
  if (!chat.shown) { chat.shown = WINDOW; }
  if (items.length > chat.seen && chat.scroll !== null) { chat.shown += items.length - chat.seen; }
  chat.seen = items.length;
  const from = Math.max(0, items.length - chat.shown);
  const [widened, setWidened] = useState(0);
  const keepFromBottom = useRef(null);
  const earlier = () => {
    const el = box.current;
    keepFromBottom.current = el ? el.scrollHeight - el.scrollTop : null;
    chat.shown = items.length - from + WINDOW;
    setWidened(widened + 1);
  };
  // The earlier messages appear above without moving what the agent was reading.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || keepFromBottom.current === null) { return; }
    el.scrollTop = el.scrollHeight - keepFromBottom.current;
    keepFromBottom.current = null;
    if (!from && document.activeElement === document.body) { el.focus(); }
  }, [widened]);

  // Restore this chat's scroll position when it is shown; keep to the bottom as items arrive.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) { return undefined; }
    el.scrollTop = chat.scroll === null ? el.scrollHeight : chat.scroll;
    const keep = () => {
      chat.scroll = el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM ? null : el.scrollTop;
    };
    el.addEventListener("scroll", keep);
    // Resized (a phone turned, a pane opened): still at the newest message if the agent was there.
    const resized = new ResizeObserver(() => { if (chat.scroll === null) { el.scrollTop = el.scrollHeight; } });
    resized.observe(el);
    return () => { el.removeEventListener("scroll", keep); resized.disconnect(); };
  }, [chat]);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && chat.scroll === null) { el.scrollTop = el.scrollHeight; }
  }, [items.length]);

  // Read receipt for the customer's newest message, while this chat is on screen and both the snapshot and the
  // transcript say only two parties are in it (the snapshot can lag the transcript by a moment).
  const lastOther = newest(items, (i) => i.Type === "MESSAGE" && i.ParticipantRole === "CUSTOMER");
  const joined = inChat(items);
  useLayoutEffect(() => {
    if (lastOther && live && !document.hidden && joined === 2) { markRead(view.id, lastOther.Id, parties); }
  }, [lastOther && lastOther.Id, parties, joined, live]);

  const lastMine = parties === 2 ? newest(items, (i) => i.ParticipantId === me && i.Type === "MESSAGE") : null;
  return html`
    <div class="transcript" ref=${box} tabindex="0">
      ${from > 0 && html`<p class="earlier"><button type="button" class="secondary small" onClick=${earlier}>Show earlier messages</button></p>`}
      <div role="log" aria-label="Conversation" aria-live="off">
        ${items.length === 0 && html`<div class="notice">${chat.link.value === "connecting" ? "Loading the conversation…" : "No messages yet."}</div>`}
        ${items.slice(from).map((item) => html`<${Message} key=${item.Id} item=${item} mine=${item.ParticipantId === me}
          party=${colours.get(item.ParticipantId) || "system"} contactId=${view.id} live=${live}
          receipt=${lastMine && item.Id === lastMine.Id ? chat.receipts.value[item.Id] : null} />`)}
      </div>
      <${Typing} chat=${chat} />
    </div>`;
}

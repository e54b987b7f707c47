// The chat window: the header, then one screen per state — before the chat (`before`: the widget's pre-chat form,
// or the test chat page's empty state), starting, failed (with what to do next), the conversation with its
// composer while the chat is on, and the ended chat. The same component runs in the widget's window and on the
// test chat page.
import { useState } from "preact/hooks";
import { html } from "./html.js";
import { Header } from "./Header.js";
import { Conversation } from "./Conversation.js";
import { Composer } from "./Composer.js";
import { StatusLine } from "./StatusLine.js";
import { EndChatDialog } from "./EndChatDialog.js";
import { Ended } from "./Ended.js";

function Failed({ chat, onRetry }) {
  const problem = chat.problem.value || {};
  return html`
    <div class="screen failed" role="alert">
      <h2>We could not connect you</h2>
      <p>${problem.message || "Something went wrong."}</p>
      ${problem.retry && html`<button type="button" class="button primary" onClick=${onRetry}>Try again</button>`}
    </div>`;
}

const NEW_CHAT_TEXT = "The current chat ends for everyone in it; then the form is ready for a new chat.";

// `confirming` (false | "end" | "new") and `setConfirming` let a page ask "End this chat?" itself (the test chat
// page's "New chat"); `onConfirmed(mode)` hears the answer.
// `inPage`: the window sits inside another page (the test chat page): a region named by its title with an h2,
// instead of the whole document (whose <main> carries the name) with an h1.
export function App({ chat, adapter, title, host, before, emptyText, onNewChat, confirming, setConfirming, onConfirmed,
  inPage = false }) {
  const [ownConfirm, setOwnConfirm] = useState(false);
  const mode = confirming === undefined ? ownConfirm : confirming;
  const setMode = setConfirming || setOwnConfirm;
  const phase = chat.phase.value;
  const titleId = "chat-title";

  const confirmEnd = () => {
    setMode(false);
    if (onConfirmed) onConfirmed(mode);
    adapter.end();
  };
  let body;
  if (phase === "prechat" || phase === "starting") body = before;
  else if (phase === "failed") body = html`<${Failed} chat=${chat} onRetry=${() => adapter.resume() || adapter.reset()} />`;
  else {
    body = html`
      <${Conversation} chat=${chat} adapter=${adapter} emptyText=${emptyText || "Connecting you with someone who can help…"} />
      <${StatusLine} chat=${chat} />
      ${phase === "ended"
        ? html`<${Ended} chat=${chat} title=${title} onNewChat=${onNewChat || (() => adapter.reset())} />`
        : html`<${Composer} chat=${chat} adapter=${adapter} />`}`;
  }
  const content = html`
    <${Header} chat=${chat} title=${title} titleId=${titleId} host=${host} level=${inPage ? "h2" : "h1"}
      onEnd=${() => setMode("end")} />
    <div class="chat-body">${body}</div>
    <${EndChatDialog} open=${!!mode} message=${mode === "new" ? NEW_CHAT_TEXT : ""} onConfirm=${confirmEnd}
      onCancel=${() => setMode(false)} />`;
  return inPage
    ? html`<section class="chat-window phase-${phase}" aria-labelledby=${titleId}>${content}</section>`
    : html`<div class="chat-window phase-${phase}">${content}</div>`;
}

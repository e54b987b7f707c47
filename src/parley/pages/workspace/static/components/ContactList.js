// The agent's chats: each named by the customer, with its unread count, last message and waiting time (since the
// customer's unanswered message, or since the chat started); after-contact work is marked with its timer.
import { html } from "../html.js";
import { agent, chatOf, now, openChats, selectedId, showList } from "../state.js";
import { clearUnread } from "../adapter/actions.js";
import { saveSelection } from "../adapter/store.js";
import { duration } from "../format.js";

function lastMessage(items) {
  for (let i = items.length - 1; i >= 0; i -= 1) {
    const item = items[i];
    if (item.Type === "MESSAGE" || item.Type === "ATTACHMENT") { return item; }
  }
  return null;
}

// A one-line preview: Markdown marks dropped, so "**Jane**" reads "Jane".
function plain(item) {
  const text = String(item.Content || "");
  return item.ContentType === "text/markdown" ? text.replace(/[*_`#>~]|\[|\]\([^)]*\)/g, "") : text;
}

export function select(id) {
  selectedId.value = id;
  saveSelection(id);
  clearUnread(id);
  showList.value = false;
}

function Row({ view }) {
  const chat = chatOf(view.id);
  const last = lastMessage(chat.items.value);
  const unread = chat.unread.value;
  const waitingSince = last && last.ParticipantRole === "CUSTOMER" ? Date.parse(last.AbsoluteTime) : null;
  const text = last ? (last.Type === "ATTACHMENT" ? `File: ${(last.Attachments || [])[0]?.AttachmentName || "attachment"}` : plain(last)) : "No messages yet";
  const current = selectedId.value === view.id;
  const describe = `contact-${view.id}-about`;
  return html`
    <li class="contact ${current ? "current" : ""} ${view.acw ? "ended" : ""}">
      <span class="contact-top">
        <button type="button" class="contact-name" aria-describedby=${describe}
          aria-current=${current ? "true" : undefined} onClick=${() => select(view.id)}>${view.customerName}</button>
        ${unread > 0 && html`<span class="unread" aria-hidden="true">${unread}</span>`}
      </span>
      <span id=${describe} class="contact-about">
        <span class="contact-last">${last && last.DisplayName ? `${last.DisplayName}: ` : ""}${text}</span>
        <span class="contact-meta">
          ${view.acw ? html`<span class="badge acw">After contact work ${duration(now.value - view.since)}</span>`
            : waitingSince ? html`<span class="badge wait">Waiting ${duration(now.value - waitingSince)}</span>`
            : html`<span>${duration(now.value - view.since)}</span>`}
          ${unread > 0 && html`<span class="visually-hidden">${unread} unread</span>`}
        </span>
      </span>
    </li>`;
}

export function ContactList() {
  const list = openChats.value;
  return html`
    <nav class="contact-list" aria-labelledby="chats-heading">
      <h2 id="chats-heading" class="pane-title">Chats</h2>
      ${list.length === 0 ? html`<p class="empty">${agent.value && agent.value.state.type === "routable" ? "No chats yet. New chats appear here." : "No chats. Set your status to Available to receive chats."}</p>`
        : html`<ul>${list.map((v) => html`<${Row} key=${v.id} view=${v} />`)}</ul>`}
    </nav>`;
}

// The agent's chats: each named by the customer, with its unread count, last message and waiting time (since the
// customer's unanswered message, or since the chat started); after-contact work is marked with its timer.
import { html } from "../html.js";
import { agent, chatOf, openChats, selectedId, showList } from "../state.js";
import { clearUnread } from "../adapter/actions.js";
import { saveSelection } from "../adapter/store.js";
import { Elapsed } from "./Elapsed.js";

// A one-line preview: Markdown marks dropped, so "**Jane**" reads "Jane".
function plain(item) {
  const text = String(item.Content || "");
  return item.ContentType === "text/markdown" ? text.replace(/[*_`#>~]|\[|\]\([^)]*\)/g, "") : text;
}

// Each item's preview is made once (the chat's last message is kept by adapter/chat.js as items arrive).
const previews = new WeakMap();
function preview(item) {
  let text = previews.get(item);
  if (text === undefined) {
    text = item.Type === "ATTACHMENT" ? `File: ${(item.Attachments || [])[0]?.AttachmentName || "attachment"}` : plain(item);
    previews.set(item, text);
  }
  return text;
}

export function select(id) {
  selectedId.value = id;
  saveSelection(id);
  clearUnread(id);
  showList.value = false;
}

function Row({ view }) {
  const chat = chatOf(view.id);
  const last = chat.last.value;
  const unread = chat.unread.value;
  const waitingSince = !view.monitoring && last && last.ParticipantRole === "CUSTOMER" ? Date.parse(last.AbsoluteTime) : null;
  const text = last ? preview(last) : "No messages yet";
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
          ${view.acw ? html`<span class="badge acw">After contact work <${Elapsed} since=${view.since} /></span>`
            : waitingSince ? html`<span class="badge wait">Waiting <${Elapsed} since=${waitingSince} /></span>`
            : html`<span><${Elapsed} since=${view.since} /></span>`}
          ${view.monitoring && !view.acw && html`<span class="badge monitor">${view.silent ? "Monitoring" : "Barged in"}</span>`}
          ${view.underSupervision && html`<span class="badge monitor">Supervisor barged in</span>`}
          ${unread > 0 && html`<span class="visually-hidden">${unread} unread</span>`}
        </span>
      </span>
    </li>`;
}

// Unread messages in the agent's other chats (beside the phone's "← Chats" button), counted where they are shown.
export function UnreadElsewhere({ id }) {
  const n = openChats.value.reduce((sum, c) => sum + (c.id === id ? 0 : chatOf(c.id).unread.value), 0);
  return n ? html` <span class="unread">${n}</span><span class="visually-hidden"> unread</span>` : "";
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

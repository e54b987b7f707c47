// One item of a transcript: a message (sender, role, time; Markdown rendered safely, anything else as text),
// a file, an interactive message as the customer saw it, or a system notice.
// A message renders again only when one of its props changes (a receipt, its chat going live or ending), never
// because another message arrived.
import { Component } from "preact";
import { html } from "../html.js";
import { renderMarkdown } from "../markdown.js";
import { timeOf, ROLES } from "../format.js";
import { Attachment } from "./Attachment.js";

const EVENT = "application/vnd.amazonaws.connect.event.";
const NOTICES = {
  "participant.joined": (n) => `${n} joined`,
  "participant.left": (n) => `${n} left`,
  "participant.invited": (n) => `${n} was invited`,
  "participant.idle": (n) => `${n} is idle`,
  "participant.returned": (n) => `${n} returned`,
  "transfer.succeeded": () => "Chat transferred",
  "transfer.failed": () => "Transfer failed",
  "chat.ended": () => "Chat ended",
};
const INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive";

export function noticeText(item) {
  if (item.Type !== "EVENT" || !String(item.ContentType).startsWith(EVENT)) { return null; }
  const make = NOTICES[item.ContentType.slice(EVENT.length)];
  return make ? make(item.DisplayName || ROLES[item.ParticipantRole] || "Someone") : null;
}

function Interactive({ content }) {
  let data;
  try { data = JSON.parse(content); } catch (e) { return html`<p class="text">${content}</p>`; }
  const body = (data && data.data && data.data.content) || {};
  const options = body.elements || body.timeslots || [];
  return html`
    <div class="interactive">
      <p class="interactive-title">${body.title || data.templateType || "Interactive message"}</p>
      ${body.subtitle && html`<p class="muted">${body.subtitle}</p>`}
      <ul>${options.map((o) => html`<li>${o.title || o.date || JSON.stringify(o)}</li>`)}</ul>
    </div>`;
}

function Body({ item, contactId, live }) {
  if (item.Type === "ATTACHMENT") {
    return html`${(item.Attachments || []).map((a) => html`<${Attachment} contactId=${contactId} attachment=${a} live=${live} />`)}`;
  }
  if (item.ContentType === "text/markdown") {
    return html`<div class="text markdown" dangerouslySetInnerHTML=${{ __html: renderMarkdown(item.Content) }}></div>`;
  }
  if (item.ContentType === INTERACTIVE) { return html`<${Interactive} content=${item.Content} />`; }
  if (item.ContentType === `${INTERACTIVE}.response`) {
    let text = item.Content;
    try { const r = JSON.parse(item.Content); text = r.data?.content?.title || r.data?.content?.selectedOption || text; } catch (e) { /* text */ }
    return html`<p class="text">${text}</p>`;
  }
  return html`<p class="text">${item.Content}</p>`;
}

function render({ item, mine, party, contactId, receipt, live }) {
  const notice = noticeText(item);
  const time = timeOf(item);
  if (item.Type === "EVENT") {
    return notice ? html`<div class="notice"><span>${notice}</span> <time>${time}</time></div>` : null;
  }
  const role = ROLES[item.ParticipantRole] || item.ParticipantRole || "";
  return html`
    <div class="message ${mine ? "mine" : ""}" data-party=${party} data-id=${item.Id}>
      <div class="meta">
        <span class="sender">${item.DisplayName || role}</span>
        <span class="role">${mine ? "You" : role}</span>
        <time datetime=${item.AbsoluteTime}>${time}</time>
      </div>
      <div class="bubble"><${Body} item=${item} contactId=${contactId} live=${live} /></div>
      ${receipt && html`<div class="receipt">${receipt}</div>`}
    </div>`;
}

export class Message extends Component {
  shouldComponentUpdate(next) {
    const now = this.props;
    return next.item !== now.item || next.mine !== now.mine || next.party !== now.party
      || next.contactId !== now.contactId || next.receipt !== now.receipt || next.live !== now.live;
  }

  render(props) { return render(props); }
}

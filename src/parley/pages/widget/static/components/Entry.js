// One entry of the conversation: a notice ("Agent2 joined"), or a message with its sender's initial, name, role
// and time, and its body: text, Markdown, a file, or a bot's choices.
import { html } from "./html.js";
import { fullTime, roleLabel, shortTime } from "../chat/model.js";
import { Markdown } from "./Markdown.js";
import { Attachment } from "./Attachment.js";
import { Interactive } from "./Interactive.js";

// "Agent1" -> "A1", "Jane Doe" -> "JD", "jane" -> "J": enough to tell several agents apart at a glance.
function initials(name) {
  const words = (name || "?").trim().split(/\s+/);
  const first = (word) => (Array.from(word)[0] || "?").toUpperCase();
  const number = /\d+$/.exec(words[0]);
  if (words.length === 1) return number && number.index > 0 ? first(words[0]) + number[0].slice(-2) : first(words[0]);
  return first(words[0]) + first(words[words.length - 1]);
}

function Body({ entry, chat, adapter, answered }) {
  if (entry.kind === "attachment") return html`<${Attachment} attachment=${entry.attachment} adapter=${adapter} chat=${chat} />`;
  if (entry.kind === "interactive") {
    return html`<${Interactive} template=${entry.template} adapter=${adapter} chat=${chat} answered=${answered} />`;
  }
  if (entry.kind === "upload") return html`<p class="text muted">${entry.text}</p>`;
  if (entry.markdown) return html`<${Markdown} text=${entry.text} />`;
  return html`<p class="text">${entry.text}</p>`;
}

export function Entry({ entry, chat, adapter, party, answered, receipt }) {
  if (entry.kind === "notice") {
    return html`<li class="entry event"><span>${entry.text}</span>
      <time datetime=${entry.time} title=${fullTime(entry.time)}>${shortTime(entry.time)}</time></li>`;
  }
  const colour = party ? party.colour : entry.mine ? "customer" : "system";
  const retry = () => adapter.send(entry.text, entry.id, entry.clientToken);
  return html`
    <li class="entry message ${entry.mine ? "mine" : "theirs"} party-${colour}">
      ${!entry.mine && html`<span class="avatar" aria-hidden="true">${initials(entry.name)}</span>`}
      <div class="message-body">
        <p class="meta">
          <span class="sender">${entry.name}</span>
          <span class="role">${roleLabel(entry.role)}</span>
          <time datetime=${entry.time} title=${fullTime(entry.time)}>${shortTime(entry.time)}</time>
        </p>
        <div class="bubble ${entry.kind}"><${Body} entry=${entry} chat=${chat} adapter=${adapter} answered=${answered} /></div>
        ${entry.pending && !entry.failed && entry.kind === "message" && html`<p class="delivery">Sending…</p>`}
        ${entry.failed && html`
          <p class="delivery failed">${entry.problem || "Not sent."}
            <button type="button" class="link-button" onClick=${retry}>Retry</button></p>`}
        ${receipt && html`<p class="delivery">${receipt}</p>`}
      </div>
    </li>`;
}

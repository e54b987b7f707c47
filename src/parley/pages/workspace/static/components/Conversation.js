// The chat on screen: who and where from, its state and timer, the actions an agent expects where Connect puts
// them (Add participant, Transfer, Leave chat; Close contact in after-contact work), the transcript, the parties
// and the composer.
import { html } from "../html.js";
import { chatOf, picker, showList } from "../state.js";
import { closeContact, leave } from "../adapter/actions.js";
import { partyCount } from "../adapter/views.js";
import { Elapsed } from "./Elapsed.js";
import { UnreadElsewhere } from "./ContactList.js";
import { Transcript, partyColours } from "./Transcript.js";
import { Roster } from "./Roster.js";
import { Composer } from "./Composer.js";
import { MonitorBanner } from "./MonitorBanner.js";

const LINK = { connecting: "Connecting to the chat…", lost: "Reconnecting…", unavailable: "This chat's messages could not be loaded. Reload the page to try again." };

export function Conversation({ view, wide }) {
  const chat = chatOf(view.id);
  const parties = partyCount(view);
  const colours = partyColours(view, chat.items.value);
  const ended = view.acw || view.meLeft;
  const state = html`${ended ? "After contact work" : "Connected"} <${Elapsed} since=${view.since} />`;
  const link = !ended && LINK[chat.link.value];
  return html`
    <section class="conversation" aria-labelledby="conversation-title">
      <header class="conversation-head">
        <button type="button" class="ghost back" onClick=${() => { showList.value = true; }}>← Chats<${UnreadElsewhere} id=${view.id} /></button>
        <div class="conversation-title">
          <h1 id="conversation-title">${view.customerName}</h1>
          <p class="muted">${view.queue ? `${view.queue} · ` : ""}<span class=${ended ? "acw-text" : ""}>${state}</span></p>
        </div>
        <div class="conversation-actions">
          ${ended ? html`<button type="button" class="primary" onClick=${() => closeContact(view.id)}>Close contact</button>`
            : view.silent ? html`<button type="button" class="danger" onClick=${() => leave(view.id)}>Leave chat</button>`
            : html`
              <button type="button" class="secondary" aria-keyshortcuts="Alt+P"
                onClick=${() => { picker.value = { contactId: view.id, mode: "add" }; }}>Add participant</button>
              <button type="button" class="secondary" aria-keyshortcuts="Alt+T"
                onClick=${() => { picker.value = { contactId: view.id, mode: "transfer" }; }}>Transfer</button>
              <button type="button" class="danger" onClick=${() => leave(view.id)}>Leave chat</button>`}
        </div>
      </header>
      <${MonitorBanner} view=${view} />
      ${link && html`<p class="link-state" role="status">${link}</p>`}
      ${ended && html`<p class="ended-note">This chat has ended for you. It stays readable here until you close the contact.</p>`}
      <div class="conversation-body">
        <${Transcript} key=${view.id} view=${view} chat=${chat} parties=${parties} colours=${colours} />
        <${Roster} view=${view} open=${wide} colours=${colours} />
      </div>
      ${!ended && html`<${Composer} key=${view.id} view=${view} readOnly=${view.silent}
        disabled=${view.silent || (chat.link.value !== "connected" && chat.link.value !== "lost")} />`}
    </section>`;
}

// The quick connect picker behind "Add participant" and "Transfer": the agent's quick connects (agents and
// queues, by name), a search box, and, when nobody can be added, why.
import { html } from "../html.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { config, contacts, endpoints, picker } from "../state.js";
import { addParticipant, transfer } from "../adapter/actions.js";
import { partyCount } from "../adapter/views.js";

const TYPES = { agent: "Agent", queue: "Queue" };

export function refusal(view, mode) {
  if (!view) { return "This chat is no longer with you."; }
  if (view.acw || view.meLeft) { return "This chat has ended for you."; }
  const list = endpoints.value;
  if (list.error) { return `Your quick connects could not be loaded: ${list.error}`; }
  if (mode === "add") {
    if (!view.multiParty) {
      return "Multi-party chat is turned off on this instance, so nobody else can join. Transfer the chat instead.";
    }
    const count = partyCount(view);
    if (count >= config.maxParties) {
      return `This chat already has ${count} participants (${count} of ${config.maxParties}). ` +
        "Remove someone before adding another.";
    }
  }
  if (list.loaded && !list.list.some((e) => TYPES[e.type])) {
    return "You have no quick connects for your queues. An administrator adds them in Routing > Quick connects.";
  }
  return "";
}

export function Picker() {
  const open = picker.value;
  const dialog = useRef(null);
  const [query, setQuery] = useState("");
  const view = open && contacts.value.find((c) => c.id === open.contactId);
  useEffect(() => {
    const el = dialog.current;
    if (!el) { return; }
    if (open && !el.open) { setQuery(""); el.showModal(); }
    if (!open && el.open) { el.close(); }
  }, [open]);
  const mode = open ? open.mode : "add";
  const title = mode === "add" ? "Add participant" : "Transfer";
  const reason = open ? refusal(view, mode) : "";
  const wanted = query.trim().toLowerCase();
  const list = endpoints.value.list.filter((e) => TYPES[e.type] && (!wanted || e.name.toLowerCase().includes(wanted)));
  const choose = (endpoint) => {
    const done = () => { picker.value = null; };
    (mode === "add" ? addParticipant : transfer)(open.contactId, endpoint, done);
  };
  return html`
    <dialog ref=${dialog} class="picker" aria-labelledby="picker-title" onClose=${() => { picker.value = null; }}>
      <div class="dialog-head">
        <h2 id="picker-title">${title}</h2>
        <button type="button" class="ghost" onClick=${() => { picker.value = null; }}>Close</button>
      </div>
      ${view && html`<p class="muted">${mode === "add" ? "Invite to" : "Hand over"} the chat with ${view.customerName}
        ${mode === "add" ? ` · ${partyCount(view)} of ${config.maxParties} participants` : ""}</p>`}
      ${reason && html`<p class="refusal" id="picker-reason" role="alert">${reason}</p>`}
      <label for="picker-search">Search quick connects</label>
      <input id="picker-search" type="search" value=${query} autocomplete="off"
        onInput=${(e) => setQuery(e.currentTarget.value)} />
      ${!endpoints.value.loaded ? html`<p class="muted">Loading quick connects…</p>`
        : list.length === 0 ? html`<p class="muted">No quick connect matches “${query}”.</p>`
        : html`<ul class="endpoints">${list.map((e) => html`
          <li>
            <button type="button" class="endpoint" disabled=${Boolean(reason)}
              aria-describedby=${reason ? "picker-reason" : undefined} onClick=${() => choose(e)}>
              <span class="endpoint-name">${e.name}</span>
              <span class="endpoint-type">${TYPES[e.type]}</span>
            </button>
          </li>`)}</ul>`}
    </dialog>`;
}

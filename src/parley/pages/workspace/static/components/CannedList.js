// The canned responses matching what the agent typed after "/" in the message box: a listbox the message box
// drives (aria-activedescendant): Up and Down move, Enter or Tab inserts, Escape closes; a click inserts too.
import { html } from "../html.js";
import { canned } from "../state.js";

export const LIST_ID = "canned-list";
export const optionId = (response) => `canned-${response.id}`;

export function CannedList({ query, matches, active, onPick }) {
  const state = canned.value;
  let empty = "";
  if (!state.loaded) { empty = "Loading canned responses…"; }
  else if (state.error) { empty = `Canned responses could not be loaded: ${state.error}`; }
  else if (!state.list.length) { empty = "No canned responses yet. Write a reply and choose “Save reply” to keep it."; }
  else if (!matches.length) { empty = `No canned response matches “${query}”. Press Escape to type it as it is.`; }
  return html`
    <div class="canned-popup">
      <p class="canned-head" id="canned-head">Canned responses <span class="muted">↑ ↓ to choose, Enter to insert, Esc to close</span></p>
      ${empty ? html`<p class="canned-empty" role="status">${empty}</p>` : html`
        <ul id=${LIST_ID} role="listbox" aria-labelledby="canned-head">
          ${matches.map((r, i) => html`
            <li id=${optionId(r)} role="option" aria-selected=${i === active ? "true" : "false"}
              class=${i === active ? "active" : ""} onMouseDown=${(e) => { e.preventDefault(); onPick(r); }}>
              <span class="canned-name">${r.name}</span>
              <span class="canned-whose">${r.shared ? "Team" : "Yours"}</span>
              <span class="canned-text">${r.text}</span>
            </li>`)}
        </ul>`}
    </div>`;
}

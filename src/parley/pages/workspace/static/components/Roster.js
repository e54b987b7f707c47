// Everyone in the chat with their state (connecting, connected, left), in party colours; another agent can be
// removed, and a pending invitation cancelled, while I am in the chat.
import { html } from "../html.js";
import { removeParty } from "../adapter/actions.js";

const STATES = { connecting: "Invited, connecting", connected: "Connected", disconnected: "Left" };

export function Roster({ view, open, colours }) {
  const active = !view.acw && !view.meLeft && !view.silent; // a silent monitor may not act in the chat
  const count = view.parties.filter((p) => p.state !== "disconnected").length;
  return html`
    <details class="roster" open=${open}>
      <summary><h2 class="pane-title">${active ? `Parties (${count})` : "Parties"}</h2></summary>
      <ul>
        ${view.parties.map((p) => {
          const colour = colours.get(p.id) || "system";
          const removable = active && p.kind === "agent" && p.state !== "disconnected";
          const verb = p.state === "connecting" ? "Cancel invitation for" : "Remove";
          return html`
            <li class="party ${p.state}" data-party=${colour}>
              <span class="party-dot" aria-hidden="true"></span>
              <span class="party-text">
                <span class="party-name">${p.name}${p.kind === "me" ? " (you)" : ""}</span>
                <span class="party-state">${p.role} · ${p.stateLabel || STATES[p.state] || p.state}</span>
              </span>
              ${removable && html`<button type="button" class="secondary small"
                onClick=${() => removeParty(view.id, p.id, p.name)}
                aria-label=${`${verb} ${p.name}`}>${p.state === "connecting" ? "Cancel" : "Remove"}</button>`}
            </li>`;
        })}
      </ul>
    </details>`;
}

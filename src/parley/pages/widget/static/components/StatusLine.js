// Under the conversation: who is typing, and the connection when it is not simply on ("Connecting…",
// "Reconnecting…"). Both are status regions, read out politely when they change.
import { html } from "./html.js";

export function StatusLine({ chat }) {
  const phase = chat.phase.value;
  const connection = phase === "connecting" ? "Connecting…" : phase === "reconnecting" ? "Reconnecting…" : "";
  return html`
    <div class="status-line">
      <p class="connection ${connection ? "shown" : ""}" role="status">${connection}</p>
      <p class="typing" role="status">
        ${chat.typing.value.map((t) => html`<span key=${t.participantId}>${t.name} is typing…</span>`)}
      </p>
    </div>`;
}

// What a supervisor monitoring a chat must always see (docs/monitoring.md): silent (nobody sees you, you cannot
// write; "Barge in" when allowed) or barged in (everyone sees you and what you write).
import { html } from "../html.js";
import { bargeIn } from "../adapter/actions.js";

export const SILENT_TEXT = "You are monitoring this chat silently — the customer and agents don't see you.";
export const BARGED_TEXT = "You barged in — the customer and agents see you and your messages.";

export function MonitorBanner({ view }) {
  const m = view.monitoring;
  if (!m || view.acw || view.meLeft) { return null; }
  const silent = m.mode === "SILENT_MONITOR";
  const whose = m.agent ? ` Agent: ${m.agent}.` : "";
  return html`
    <div class="monitor-banner ${silent ? "silent" : "barged"}" role="status" aria-live="polite">
      <p><strong>${silent ? SILENT_TEXT : BARGED_TEXT}</strong>${whose}</p>
      ${silent && (m.canBarge ? html`<button type="button" class="primary" onClick=${() => bargeIn(view.id)}
          title="Join the conversation: the customer and the agents will see you join">Barge in</button>`
        : html`<span class="muted">Your monitoring does not allow barging in.</span>`)}
    </div>`;
}

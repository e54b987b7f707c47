// The bar at the top: who is signed in, the Status selector with its timer, chat slots, after-contact work and
// missed chats with their timers, the offer alert switches, help and sign-out.
import { html } from "../html.js";
import { agent, contacts, helpOpen, now, prefs, setPref } from "../state.js";
import { setStatus } from "../adapter/actions.js";
import { askNotificationPermission } from "../adapter/alerts.js";
import { duration } from "../format.js";

const MISSED = "MissedCallAgent";
const LABELS = { [MISSED]: "Missed chat" };

function StatusControl({ me }) {
  const known = me.states.some((s) => s.name === me.state.name);
  const options = known ? me.states : [{ name: me.state.name, type: me.state.type, stale: true }, ...me.states];
  return html`
    <div class="status-control ${me.state.type}">
      <label for="ws-status">Status</label>
      <select id="ws-status" value=${me.state.name} onChange=${(e) => setStatus(e.currentTarget.value)}>
        ${options.map((s) => html`<option value=${s.name} disabled=${Boolean(s.stale)}>${LABELS[s.name] || s.name}</option>`)}
      </select>
      <span class="timer" title="Time in this status">${duration(now.value - me.state.since)}</span>
    </div>`;
}

async function toggleNotify(on) {
  setPref("notify", on);
  if (on) { await askNotificationPermission(); }
}

export function TopBar() {
  const me = agent.value;
  const acw = contacts.value.filter((c) => c.acw);
  const oldest = acw.reduce((t, c) => Math.min(t, c.since), Infinity);
  return html`
    <header class="topbar">
      <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">P</span>
        <span class="brand-text">Parley</span></a>
      ${me && html`
        <span class="agent-name">${me.name}</span>
        <${StatusControl} me=${me} />
        <span class="slots" title="Chats you hold of the chats your routing profile allows">
          ${me.used} of ${me.slots} ${me.slots === 1 ? "chat" : "chats"}</span>
        ${me.state.name === MISSED && html`<span class="badge warn">Missed a chat · set Available to get chats</span>`}
        ${acw.length > 0 && html`<span class="badge acw">After contact work ${duration(now.value - oldest)}</span>`}`}
      <div class="topbar-end">
        <label class="switch"><input type="checkbox" checked=${prefs.value.sound}
          onChange=${(e) => setPref("sound", e.currentTarget.checked)} /> Sound</label>
        <label class="switch"><input type="checkbox" checked=${prefs.value.notify}
          onChange=${(e) => toggleNotify(e.currentTarget.checked)} /> Notifications</label>
        <button type="button" class="ghost" onClick=${() => { helpOpen.value = true; }}>Keyboard shortcuts</button>
        ${me && html`<a class="ghost" href="/connect/logout">Sign out</a>`}
      </div>
    </header>`;
}

// The workspace: top bar, offers and chats on the left, the conversation in the middle (parties beside it on
// wide screens), one polite live region, the picker and help dialogs, and the keyboard shortcuts.
import { html } from "../html.js";
import { useEffect, useState } from "preact/hooks";
import { alertText, helpOpen, notice, offers, openChats, phase, picker, selected, showList } from "../state.js";
import { accept } from "../adapter/actions.js";
import { TopBar } from "./TopBar.js";
import { OfferCard } from "./OfferCard.js";
import { ContactList, select } from "./ContactList.js";
import { Conversation } from "./Conversation.js";
import { Picker } from "./Picker.js";
import { HelpDialog } from "./HelpDialog.js";
import { SaveReply } from "./SaveReply.js";
import { loadCanned } from "../adapter/canned.js";
import { Screen } from "./Screens.js";

const WIDE = "(min-width: 72rem)";

function typingInField(event) {
  const t = event.target;
  return t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT" || t.isContentEditable);
}

function shortcut(event) {
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    const list = openChats.value;
    const index = list.findIndex((c) => c.id === (selected.value && selected.value.id));
    const id = selected.value && selected.value.id;
    const act = {
      KeyA: () => offers.value[0] && accept(offers.value[0].id),
      KeyN: () => list.length && select(list[(index + (event.shiftKey ? list.length - 1 : 1) + list.length) % list.length].id),
      KeyM: () => document.getElementById("ws-message")?.focus(),
      KeyP: () => id && (picker.value = { contactId: id, mode: "add" }),
      KeyT: () => id && (picker.value = { contactId: id, mode: "transfer" }),
    }[event.code];
    if (act) { event.preventDefault(); act(); }
    return;
  }
  if (event.key === "?" && !typingInField(event)) { event.preventDefault(); helpOpen.value = true; }
}

function useWide() {
  const [wide, setWide] = useState(() => matchMedia(WIDE).matches);
  useEffect(() => {
    const query = matchMedia(WIDE);
    const change = () => setWide(query.matches);
    query.addEventListener("change", change);
    return () => query.removeEventListener("change", change);
  }, []);
  return wide;
}

// The polite live region reads `notice` itself, so an announcement renders this line and nothing else.
function LiveRegion() {
  return html`<p class="visually-hidden" aria-live="polite">${notice.value}</p>`;
}

export function App() {
  const wide = useWide();
  useEffect(() => {
    document.addEventListener("keydown", shortcut);
    return () => document.removeEventListener("keydown", shortcut);
  }, []);
  const ready = phase.value === "ready";
  useEffect(() => { if (ready) { loadCanned(); } }, [ready]);
  if (!ready) { return html`<${Screen} />`; }
  const view = selected.value;
  return html`
    <div class="workspace ${showList.value || !view ? "list-first" : "chat-first"}">
      <${TopBar} />
      ${alertText.value && html`
        <div class="alert" role="alert"><span>${alertText.value}</span>
          <button type="button" class="ghost small" onClick=${() => { alertText.value = ""; }}>Dismiss</button></div>`}
      <div class="panes">
        <aside class="sidebar" aria-label="Offers and chats">
          ${offers.value.length > 0 && html`
            <section class="offers" aria-labelledby="offers-heading">
              <h2 id="offers-heading" class="pane-title">Offers</h2>
              ${offers.value.map((o, i) => html`<${OfferCard} key=${o.id} offer=${o} first=${i === 0} />`)}
            </section>`}
          <${ContactList} />
        </aside>
        <main id="main" class="main">
          ${view ? html`<${Conversation} view=${view} wide=${wide} />`
            : html`<div class="idle"><h1>No chat open</h1><p>New chats appear on the left. Press <kbd>?</kbd> for keyboard shortcuts.</p></div>`}
        </main>
      </div>
      <${LiveRegion} />
      <${Picker} />
      <${HelpDialog} />
      <${SaveReply} />
    </div>`;
}

// Writing to the chat: the "Message" box (Enter sends, Shift+Enter adds a line), "Send", "Attach file" and "Save
// reply". A message that starts with "/" searches the canned responses (CannedList); Enter inserts the chosen one.
// The draft is kept per chat (localStorage), so switching chats or reloading loses nothing typed.
import { html } from "../html.js";
import { useRef, useState } from "preact/hooks";
import { notice, saving } from "../state.js";
import { attach, send, typing } from "../adapter/actions.js";
import { searchCanned } from "../adapter/canned.js";
import { draftOf, saveDraft } from "../adapter/store.js";
import { CannedList, LIST_ID, optionId } from "./CannedList.js";

// The canned-response search: the whole draft is "/" and one line of words.
const slashQuery = (text) => (text.startsWith("/") && !text.includes("\n") ? text.slice(1) : null);

export function Composer({ view, disabled, readOnly }) {
  const [text, setText] = useState(() => draftOf(view.id));
  const [busy, setBusy] = useState(false);
  const [active, setActive] = useState(0);
  const [closed, setClosed] = useState(false); // Escape closed the list for this "/" draft
  const file = useRef(null);
  const box = useRef(null);

  const query = slashQuery(text);
  const open = !disabled && query !== null && !closed;
  const matches = open ? searchCanned(query) : [];
  const current = matches[Math.min(active, matches.length - 1)];

  const change = (value) => {
    setText(value);
    saveDraft(view.id, value);
    if (slashQuery(value) === null) { setClosed(false); } else { setActive(0); }
    if (value && slashQuery(value) === null) { typing(view.id); }
  };
  const insert = (response) => {
    change(response.text);
    notice.value = `Inserted “${response.name}”`;
    requestAnimationFrame(() => {
      const el = box.current;
      if (el) { el.focus(); el.setSelectionRange(el.value.length, el.value.length); }
    });
  };
  const submit = async (event) => {
    event.preventDefault();
    const message = text.trim();
    if (!message || busy) { return; }
    setBusy(true);
    if (await send(view.id, message)) { change(""); }
    setBusy(false);
  };
  const keydown = (event) => {
    if (open) {
      const count = matches.length;
      if (event.key === "ArrowDown" && count) { event.preventDefault(); setActive((active + 1) % count); return; }
      if (event.key === "ArrowUp" && count) { event.preventDefault(); setActive((active - 1 + count) % count); return; }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); setClosed(true); return; }
      if ((event.key === "Enter" && !event.shiftKey && !event.isComposing) || (event.key === "Tab" && current)) {
        event.preventDefault();
        if (current) { insert(current); }
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { submit(event); }
  };
  const picked = async (event) => {
    const chosen = [...(event.currentTarget.files || [])];
    event.currentTarget.value = "";
    for (const f of chosen) { await attach(view.id, f); }
  };
  return html`
    <form class="composer" onSubmit=${submit}>
      ${open && html`<${CannedList} query=${query} matches=${matches} active=${active} onPick=${insert} />`}
      ${readOnly && html`<p id="ws-message-readonly" class="composer-note">Read-only: you are monitoring silently. Barge in to write.</p>`}
      <label for="ws-message" class="visually-hidden">Message</label>
      <textarea id="ws-message" ref=${box} rows="2" value=${text} disabled=${disabled} aria-keyshortcuts="Enter"
        aria-autocomplete="list" aria-controls=${open && matches.length ? LIST_ID : undefined}
        aria-activedescendant=${open && current ? optionId(current) : undefined} aria-describedby=${readOnly ? "ws-message-readonly ws-message-hint" : "ws-message-hint"}
        placeholder=${disabled ? "" : `Message ${view.customerName}…`}
        onInput=${(e) => change(e.currentTarget.value)} onKeyDown=${keydown}></textarea>
      <span id="ws-message-hint" class="visually-hidden">Type / for canned responses.</span>
      <div class="composer-actions">
        <input type="file" ref=${file} class="visually-hidden" tabindex="-1" aria-label="Attach file" multiple
          onChange=${picked} disabled=${disabled || !view.attachments} />
        <button type="button" class="secondary" disabled=${disabled || !view.attachments}
          onClick=${() => file.current && file.current.click()}>Attach file</button>
        <button type="button" class="secondary" disabled=${disabled || !text.trim() || query !== null}
          title="Keep this message as one of your canned responses"
          onClick=${() => { saving.value = { text: text.trim() }; }}>Save reply</button>
        <button type="submit" class="primary" disabled=${disabled || busy || !text.trim()}>Send</button>
      </div>
    </form>`;
}

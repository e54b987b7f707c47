// Writing to the chat: the "Message" box (Enter sends, Shift+Enter adds a line), "Send", "Attach file". The draft
// is kept per chat (localStorage), so switching chats or reloading loses nothing typed.
import { html } from "../html.js";
import { useRef, useState } from "preact/hooks";
import { attach, send, typing } from "../adapter/actions.js";
import { draftOf, saveDraft } from "../adapter/store.js";

export function Composer({ view, disabled }) {
  const [text, setText] = useState(() => draftOf(view.id));
  const [busy, setBusy] = useState(false);
  const file = useRef(null);

  const change = (value) => { setText(value); saveDraft(view.id, value); if (value) { typing(view.id); } };
  const submit = async (event) => {
    event.preventDefault();
    const message = text.trim();
    if (!message || busy) { return; }
    setBusy(true);
    if (await send(view.id, message)) { change(""); }
    setBusy(false);
  };
  const keydown = (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { submit(event); }
  };
  const picked = async (event) => {
    const chosen = [...(event.currentTarget.files || [])];
    event.currentTarget.value = "";
    for (const f of chosen) { await attach(view.id, f); }
  };
  return html`
    <form class="composer" onSubmit=${submit}>
      <label for="ws-message" class="visually-hidden">Message</label>
      <textarea id="ws-message" rows="2" value=${text} disabled=${disabled} aria-keyshortcuts="Enter"
        placeholder=${disabled ? "" : `Message ${view.customerName}…`}
        onInput=${(e) => change(e.currentTarget.value)} onKeyDown=${keydown}></textarea>
      <div class="composer-actions">
        <input type="file" ref=${file} class="visually-hidden" tabindex="-1" aria-label="Attach file"
          onChange=${picked} disabled=${disabled || !view.attachments} />
        <button type="button" class="secondary" disabled=${disabled || !view.attachments}
          onClick=${() => file.current && file.current.click()}>Attach file</button>
        <button type="submit" class="primary" disabled=${disabled || busy || !text.trim()}>Send</button>
      </div>
    </form>`;
}

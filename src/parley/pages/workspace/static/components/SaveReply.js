// "Save reply": keeps the message being written as one of the agent's own canned responses, under a name the
// agent picks; Parley's refusal (a name already used, a text too long) is shown as it says it.
import { html } from "../html.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { notice, saving } from "../state.js";
import { saveCanned } from "../adapter/canned.js";

// A first suggestion for the name: the text's first words.
function suggested(text) {
  const words = text.replace(/\s+/g, " ").trim().split(" ").slice(0, 4).join(" ");
  return words.length > 40 ? words.slice(0, 40) : words;
}

export function SaveReply() {
  const open = saving.value;
  const dialog = useRef(null);
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const el = dialog.current;
    if (!el) { return; }
    if (open && !el.open) {
      setName(suggested(open.text)); setText(open.text); setProblem("");
      el.showModal();
    }
    if (!open && el.open) { el.close(); }
  }, [open]);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const saved = await saveCanned(name, text);
      notice.value = `Saved “${saved.name}” to your canned responses`;
      saving.value = null;
    } catch (err) {
      setProblem(err.message || String(err));
    }
    setBusy(false);
  };
  return html`
    <dialog ref=${dialog} class="save-reply" aria-labelledby="save-title" onClose=${() => { saving.value = null; }}>
      <form onSubmit=${submit}>
        <div class="dialog-head">
          <h2 id="save-title">Save reply</h2>
          <button type="button" class="ghost" onClick=${() => { saving.value = null; }}>Close</button>
        </div>
        <p class="muted">Keep this reply in your canned responses: type <kbd>/</kbd> and its name in the message box to insert it.</p>
        <label for="save-name">Name</label>
        <input id="save-name" value=${name} maxlength="100" required autocomplete="off"
          onInput=${(e) => setName(e.currentTarget.value)} />
        <label for="save-text">Text</label>
        <textarea id="save-text" rows="5" value=${text} required onInput=${(e) => setText(e.currentTarget.value)}></textarea>
        ${problem && html`<p class="refusal" role="alert">${problem}</p>`}
        <div class="dialog-actions">
          <button type="button" class="secondary" onClick=${() => { saving.value = null; }}>Cancel</button>
          <button type="submit" class="primary" disabled=${busy}>Save</button>
        </div>
      </form>
    </dialog>`;
}

// "Save reply": keeps the message being written as one of the agent's own canned responses, under a name the
// agent picks; Parley's refusal (a name already used, a text too long) is shown as it says it. Below, the agent's
// own list, each with Delete (asked twice: the first click turns into "Delete for good").
import { html } from "../html.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { canned, notice, saving } from "../state.js";
import { deleteCanned, saveCanned } from "../adapter/canned.js";

// A first suggestion for the name: the text's first words.
function suggested(text) {
  const words = text.replace(/\s+/g, " ").trim().split(" ").slice(0, 4).join(" ");
  return words.length > 40 ? words.slice(0, 40) : words;
}

function OwnList() {
  const own = canned.value.list.filter((r) => !r.shared);
  const [asked, setAsked] = useState("");
  const [problem, setProblem] = useState("");
  if (!own.length) { return null; }
  const remove = async (r) => {
    if (asked !== r.id) { setAsked(r.id); setProblem(""); return; }
    try {
      await deleteCanned(r.id);
      notice.value = `Deleted “${r.name}” from your canned responses`;
    } catch (err) {
      setProblem(err.message || String(err));
    }
    setAsked("");
  };
  return html`
    <section class="own-canned" aria-labelledby="own-canned-title">
      <h3 id="own-canned-title">Your canned responses</h3>
      ${problem && html`<p class="refusal" role="alert">${problem}</p>`}
      <ul>
        ${own.map((r) => html`
          <li key=${r.id}>
            <span class="canned-name">${r.name}</span>
            <span class="canned-text">${r.text}</span>
            <button type="button" class=${asked === r.id ? "danger" : "secondary"}
              aria-label=${asked === r.id ? `Delete “${r.name}” for good` : `Delete “${r.name}”`}
              onClick=${() => remove(r)}>${asked === r.id ? "Delete for good" : "Delete"}</button>
          </li>`)}
      </ul>
    </section>`;
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
      <${OwnList} />
    </dialog>`;
}

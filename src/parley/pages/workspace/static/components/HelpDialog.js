// The keyboard shortcuts, in a dialog ("?" or the "Keyboard shortcuts" button opens it).
import { html } from "../html.js";
import { useEffect, useRef } from "preact/hooks";
import { helpOpen } from "../state.js";

export const SHORTCUTS = [
  ["Alt+A", "Accept the oldest offer"],
  ["Alt+N", "Next chat"],
  ["Alt+Shift+N", "Previous chat"],
  ["Alt+M", "Go to the message box"],
  ["Enter", "Send the message (Shift+Enter: new line)"],
  ["/", "Canned responses, at the start of a message (↑ ↓ choose, Enter inserts)"],
  ["Alt+P", "Add participant"],
  ["Alt+T", "Transfer"],
  ["?", "Show these shortcuts"],
  ["Escape", "Close a dialog"],
];

export function HelpDialog() {
  const dialog = useRef(null);
  useEffect(() => {
    const el = dialog.current;
    if (helpOpen.value && el && !el.open) { el.showModal(); }
    if (!helpOpen.value && el && el.open) { el.close(); }
  }, [helpOpen.value]);
  return html`
    <dialog ref=${dialog} class="help" aria-labelledby="help-title" onClose=${() => { helpOpen.value = false; }}>
      <div class="dialog-head">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <button type="button" class="ghost" onClick=${() => { helpOpen.value = false; }}>Close</button>
      </div>
      <table>
        <thead><tr><th scope="col">Keys</th><th scope="col">Does</th></tr></thead>
        <tbody>${SHORTCUTS.map(([keys, what]) => html`<tr><td><kbd>${keys}</kbd></td><td>${what}</td></tr>`)}</tbody>
      </table>
    </dialog>`;
}

// "End chat?" — a modal dialog with "Yes, end chat" and "Cancel" (Escape cancels too).
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.js";

export function EndChatDialog({ open, message, onConfirm, onCancel }) {
  const dialog = useRef(null);
  useEffect(() => {
    const el = dialog.current;
    if (open && !el.open) el.showModal();
    if (!open && el.open) el.close();
  }, [open]);
  return html`
    <dialog ref=${dialog} class="confirm" aria-labelledby="end-chat-title" aria-describedby="end-chat-text"
      onCancel=${(event) => { event.preventDefault(); onCancel(); }}>
      <h2 id="end-chat-title">End this chat?</h2>
      <p id="end-chat-text">${message || "You will not be able to send more messages in this chat."}</p>
      <div class="dialog-actions">
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
        <button type="button" class="button danger" onClick=${onConfirm}>Yes, end chat</button>
      </div>
    </dialog>`;
}

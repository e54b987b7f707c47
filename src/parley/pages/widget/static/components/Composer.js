// Writing to the chat: "Message" (Enter sends, Shift+Enter starts a new line), "Send", and "Attach file" (a button
// opening the file input labelled "Attach file"). Typing is reported through the adapter, which leaves the
// throttling to ChatJS (one typing event per 10 s at most).
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.js";
import { ACCEPT } from "../chat/files.js";

const MAX_MESSAGE = 1024; // Connect's limit for a text/plain message
const MAX_LINES_PX = 132;

export function Composer({ chat, adapter }) {
  const box = useRef(null);
  const picker = useRef(null);
  const phase = chat.phase.value;
  const usable = phase === "open" || phase === "reconnecting";
  const problem = chat.composerProblem.value;

  useEffect(() => {
    if (!chat.focusComposer) return;
    chat.focusComposer = false;
    box.current.focus();
  }, []);

  function fit() {
    const el = box.current;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_LINES_PX)}px`;
  }

  function submit(event) {
    event.preventDefault();
    const text = box.current.value.trim();
    if (!text || !usable) return;
    chat.composerProblem.value = "";
    adapter.send(text);
    box.current.value = "";
    fit();
    box.current.focus();
  }

  function keyDown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
  }

  function input() {
    fit();
    if (box.current.value.trim()) adapter.typing();
  }

  function picked(event) {
    const [file] = event.currentTarget.files || [];
    event.currentTarget.value = "";
    if (file) adapter.sendFile(file);
  }

  return html`
    <form class="composer" onSubmit=${submit}>
      ${problem && html`<p class="composer-problem" role="alert">${problem}</p>`}
      <div class="composer-row">
        <button type="button" class="icon-button" disabled=${!usable} onClick=${() => picker.current.click()}>
          <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
            <path d="M16.5 6.5l-7.8 7.8a2 2 0 0 0 2.8 2.8l7.8-7.8a4 4 0 0 0-5.7-5.7l-7.8 7.8a6 6 0 0 0 8.5 8.5l6.4-6.4" />
          </svg>
          <span class="visually-hidden">Attach file</span>
        </button>
        <input type="file" ref=${picker} class="file-input" hidden accept=${ACCEPT} aria-label="Attach file" onChange=${picked} />
        <label for="composer-message" class="visually-hidden">Message</label>
        <textarea id="composer-message" ref=${box} rows="1" maxLength=${MAX_MESSAGE} placeholder="Type a message"
          autocomplete="off" onKeyDown=${keyDown} onInput=${input} disabled=${phase === "ended"}></textarea>
        <button type="submit" class="send-button" disabled=${!usable}>
          <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path d="M3 11l18-8-8 18-2-8z" /></svg>
          <span class="send-label">Send</span>
        </button>
      </div>
    </form>`;
}

// Before the chat: the widget's greeting and the customer's name (unless the host page gave it), then
// "Start chat". A refusal from the server (origin not allowed, too many chats...) shows here, in words.
import { useRef, useState } from "preact/hooks";
import { html } from "./html.js";

const MAX_NAME = 100;

export function PreChat({ chat, greeting, knownName, onStart }) {
  const [error, setError] = useState("");
  const input = useRef(null);
  const problem = chat.problem.value;
  const starting = chat.phase.value === "starting";

  function submit(event) {
    event.preventDefault();
    const name = knownName || (input.current ? input.current.value.trim() : "");
    if (!name) {
      setError("Enter your name to start the chat.");
      input.current && input.current.focus();
      return;
    }
    setError("");
    onStart(name);
  }

  return html`
    <form class="prechat" onSubmit=${submit} noValidate>
      <p class="greeting">${greeting || "Hi! Tell us your name and we will connect you with someone who can help."}</p>
      ${problem && html`<p class="notice-box ${problem.retry ? "error" : ""}" role="alert">${problem.message}</p>`}
      ${knownName ? html`<p>You will chat as <strong>${knownName}</strong>.</p>` : html`
        <div class="field">
          <label for="prechat-name">Your name</label>
          <input id="prechat-name" ref=${input} name="name" autocomplete="name" maxLength=${MAX_NAME}
            aria-invalid=${error ? "true" : "false"} aria-describedby=${error ? "prechat-error" : undefined} />
          ${error && html`<p id="prechat-error" class="field-error">${error}</p>`}
        </div>`}
      <button type="submit" class="button primary" disabled=${starting}>
        ${starting ? "Starting…" : "Start chat"}
      </button>
    </form>`;
}

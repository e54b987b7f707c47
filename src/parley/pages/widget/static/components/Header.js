// The window's title bar: the widget's title, "End chat" while a chat is on, and "Minimize chat" when the
// window sits in a host page (the launcher opens it again; the chat goes on meanwhile).
import { html } from "./html.js";

export function Header({ chat, title, titleId, host, level = "h1", onEnd }) {
  const phase = chat.phase.value;
  const canEnd = phase === "open" || phase === "reconnecting";
  return html`
    <header class="chat-header">
      <${level} id=${titleId} class="chat-title">${title}</${level}>
      <div class="header-actions">
        ${(canEnd || phase === "ending") && html`
          <button type="button" class="header-button" onClick=${onEnd} disabled=${phase === "ending"}>
            ${phase === "ending" ? "Ending…" : "End chat"}
          </button>`}
        ${host && host.embedded && html`
          <button type="button" class="header-button icon" onClick=${() => host.close()}>
            <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path d="M5 12h14" /></svg>
            <span class="visually-hidden">Minimize chat</span>
          </button>`}
      </div>
    </header>`;
}

// The ended chat: what happened, and what to do next — keep the transcript (a .txt built here from the shown
// entries, or the browser's print dialog), or start a new chat.
import { html } from "./html.js";
import { saveBlob } from "../chat/files.js";

export function Ended({ chat, title, onNewChat }) {
  const download = async () => {
    const { transcriptFileName, transcriptText } = await import("../chat/transcript.js"); // only ever needed here
    saveBlob(new Blob([transcriptText(title, chat.entries.value)], { type: "text/plain" }), transcriptFileName());
  };
  return html`
    <section class="ended" aria-labelledby="ended-title">
      <h2 id="ended-title" class="ended-title">Chat ended</h2>
      <p class="ended-text">Thank you for chatting with us. You can keep a copy of this conversation.</p>
      <div class="ended-actions">
        <button type="button" class="button secondary" onClick=${download}>Download transcript</button>
        <button type="button" class="button secondary" onClick=${() => window.print()}>Print transcript</button>
        <button type="button" class="button primary" onClick=${onNewChat}>Start a new chat</button>
      </div>
    </section>`;
}

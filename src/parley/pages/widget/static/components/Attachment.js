// A file in the conversation: its name and a download button; images (JPEG, PNG) also get a preview, loaded
// through ChatJS (GetAttachment, then the file from Parley) and shown from an object URL.
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { canPreview, saveBlob } from "../chat/files.js";

export function Attachment({ attachment, adapter, chat }) {
  const [preview, setPreview] = useState("");
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const ended = chat.phase.value === "ended";
  const approved = !attachment.status || attachment.status === "APPROVED";

  useEffect(() => {
    if (!approved || ended || !canPreview(attachment.type)) return undefined;
    let url = "";
    let current = true;
    adapter.download(attachment.id).then((blob) => {
      if (!current) return;
      url = URL.createObjectURL(blob);
      setPreview(url);
    }, () => {});
    return () => { current = false; if (url) URL.revokeObjectURL(url); };
  }, [attachment.id]);

  async function download() {
    setBusy(true);
    setProblem("");
    try {
      saveBlob(await adapter.download(attachment.id), attachment.name);
    } catch {
      setProblem("The file could not be downloaded. Try again.");
    } finally {
      setBusy(false);
    }
  }

  if (!approved) return html`<p class="text muted">${attachment.name} was not delivered (${attachment.status}).</p>`;
  return html`
    <div class="attachment">
      ${preview && html`<img class="preview" src=${preview} alt=${attachment.name} />`}
      <p class="file">
        <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18"><path d="M6 2h8l4 4v16H6z M14 2v4h4" /></svg>
        <span class="file-name">${attachment.name}</span>
      </p>
      ${!ended && html`
        <button type="button" class="link-button" onClick=${download} disabled=${busy} aria-label=${`Download ${attachment.name}`}>
          ${busy ? "Downloading…" : "Download"}
        </button>`}
      ${problem && html`<p class="field-error" role="alert">${problem}</p>`}
    </div>`;
}

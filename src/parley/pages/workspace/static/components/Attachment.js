// A file in the chat: its name and size, a Download button, and a preview for images (fetched through ChatJS,
// shown from a blob: URL).
import { html } from "../html.js";
import { useEffect, useState } from "preact/hooks";
import { download } from "../adapter/actions.js";
import { alertText } from "../state.js";

const IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

async function fileOf(contactId, attachment) {
  const blob = await download(contactId, attachment.AttachmentId);
  return blob instanceof Blob ? blob : new Blob([blob]);
}

async function save(contactId, attachment) {
  try {
    const blob = await fileOf(contactId, attachment);
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = attachment.AttachmentName || "attachment";
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    alertText.value = `Could not download ${attachment.AttachmentName}: ${err.message || err}`;
  }
}

export function Attachment({ contactId, attachment, live }) {
  const [preview, setPreview] = useState(null);
  const image = IMAGES.has(attachment.ContentType) && attachment.Status !== "REJECTED";
  useEffect(() => {
    if (!image || !live) { return undefined; }
    let url = null;
    let gone = false;
    fileOf(contactId, attachment).then((blob) => {
      if (!gone) { url = URL.createObjectURL(blob); setPreview(url); }
    }).catch(() => {});
    return () => { gone = true; if (url) { URL.revokeObjectURL(url); } };
  }, [attachment.AttachmentId, live]);
  return html`
    <div class="attachment">
      ${preview && html`<img src=${preview} alt=${`Preview of ${attachment.AttachmentName}`} />`}
      <span class="file-name">${attachment.AttachmentName}</span>
      ${attachment.Status === "REJECTED" ? html`<span class="muted">(refused)</span>`
        : live && html`<button type="button" class="secondary small" onClick=${() => save(contactId, attachment)}
          aria-label=${`Download ${attachment.AttachmentName}`}>Download</button>`}
    </div>`;
}

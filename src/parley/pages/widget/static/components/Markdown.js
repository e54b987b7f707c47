// A Markdown message: shown as plain text at once, then as sanitized HTML when marked and DOMPurify have loaded.
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { renderMarkdown } from "../chat/markdown.js";

export function Markdown({ text }) {
  const [rendered, setRendered] = useState(null);
  useEffect(() => {
    let current = true;
    renderMarkdown(text).then((markup) => { if (current) setRendered(markup); }, () => {});
    return () => { current = false; };
  }, [text]);
  if (rendered === null) return html`<p class="text">${text}</p>`;
  return html`<div class="text markdown" dangerouslySetInnerHTML=${{ __html: rendered }} />`;
}

// Markdown from chat participants, rendered safely: marked, then DOMPurify with a small allow-list; links open in
// a new tab without access to this page. Everything that is not text/markdown is shown as text.
import { marked } from "marked";
import DOMPurify from "dompurify";

const ALLOWED_TAGS = ["p", "br", "strong", "em", "b", "i", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a",
                      "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td"];
let hooked = false;

export function renderMarkdown(text) {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") { node.setAttribute("target", "_blank"); node.setAttribute("rel", "noopener noreferrer"); }
    });
  }
  const raw = marked.parse(String(text || ""), { async: false, gfm: true, breaks: true });
  return DOMPurify.sanitize(raw, { ALLOWED_TAGS, ALLOWED_ATTR: ["href", "title"], ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i });
}

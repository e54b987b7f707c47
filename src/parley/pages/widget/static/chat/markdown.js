// Markdown from agents, rendered safely: marked turns it into HTML, with any raw HTML in the text kept as text
// (escaped, so no tag or handler is ever parsed), and DOMPurify then keeps only formatting tags and http(s)/mailto
// links, never images (they would load from other hosts) or anything active. Both libraries load on the first
// Markdown message, so a chat of plain text never downloads them.
let loading = null;

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

const ALLOWED_TAGS = ["p", "br", "strong", "em", "del", "code", "pre", "ul", "ol", "li", "a", "blockquote",
  "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "span"];

function load() {
  if (!loading) {
    loading = Promise.all([import("marked"), import("dompurify")]).then(([{ Marked }, { default: DOMPurify }]) => {
      const marked = new Marked({
        gfm: true, breaks: true, async: false,
        renderer: { html: (token) => escapeHtml(token.text) },
      });
      const purify = DOMPurify(window);
      purify.addHook("afterSanitizeAttributes", (node) => {
        if (node.tagName === "A") {
          node.setAttribute("target", "_blank");
          node.setAttribute("rel", "noopener noreferrer nofollow");
        }
      });
      return (text) => purify.sanitize(marked.parse(text), {
        ALLOWED_TAGS, ALLOWED_ATTR: ["href", "target", "rel"],
        ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
      });
    });
  }
  return loading;
}

/** A promise of the sanitized HTML of `text`. */
export const renderMarkdown = (text) => load().then((render) => render(text));

// renderMarkdown turns the notes' Markdown into DOM for the preview: marked
// renders it, DOMPurify keeps only safe markup (no scripts, no event
// handlers, no javascript: URLs), and links open in a new tab without
// access to this page. Nothing reaches the DOM as unsanitized HTML.
import { marked } from "marked";
import DOMPurify from "dompurify";

let hooked = false;

export function renderMarkdown(text: string): DocumentFragment {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node instanceof HTMLAnchorElement && node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
  }
  const html = marked.parse(text, { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, { RETURN_DOM_FRAGMENT: true, USE_PROFILES: { html: true } });
}

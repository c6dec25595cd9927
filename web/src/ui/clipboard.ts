import { h } from "./dom";

// copyText puts text on the clipboard; returns false when the browser refused
// both the Clipboard API and the textarea fallback.
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (permissions, insecure origin): use a textarea.
    const ta = h("textarea", { value: text, attrs: { readonly: true, "aria-hidden": "true" } });
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

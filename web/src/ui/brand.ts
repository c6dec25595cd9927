import { h } from "./dom";
import { icon } from "./icons";

// brand is the Huddle logo + name, linking home.
export function brand(): HTMLElement {
  return h("a", { class: "brand", attrs: { href: "/" } }, h("span", { class: "brand-mark" }, icon("videocam", 20)), h("span", {}, "Huddle"));
}

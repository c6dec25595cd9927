// C has no @codemirror/lang-* package: the C mode of the legacy clike modes.
import { StreamLanguage } from "@codemirror/language";
import { c } from "@codemirror/legacy-modes/mode/clike";

export const cLanguage = StreamLanguage.define(c);

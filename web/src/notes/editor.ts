// DocEditor is the CodeMirror 6 view of a SharedDoc, bound to its Y.Text by
// y-codemirror.next (edits both ways, others' cursors and selections with
// their names, undo of one's own edits only). The editable element carries
// the accessible name ("Meeting notes", "Code editor"). The code pad's
// highlighting follows the document's language (a Compartment, swapped when
// the language in the Y.Doc changes, whoever changed it).
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, placeholder } from "@codemirror/view";
import { Compartment, EditorState } from "@codemirror/state";
import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, indentOnInput } from "@codemirror/language";
import { oneDark } from "@codemirror/theme-one-dark";
import * as Y from "yjs";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import type { SharedDoc } from "./doc";
import { languageById } from "./languages";

// The remote cursor's name label is shown all the time, not only on hover.
const remoteLabels = EditorView.theme({
  ".cm-ySelectionInfo": { opacity: 1, fontFamily: "inherit", fontSize: "11px", padding: "1px 4px", borderRadius: "3px 3px 3px 0", top: "-1.35em" },
  ".cm-ySelectionCaretDot": { display: "none" },
});

const sizing = EditorView.theme({
  "&": { height: "100%", fontSize: "14px" },
  ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "1.5" },
  ".cm-content": { paddingTop: "16px", paddingBottom: "16px" },
});

export class DocEditor {
  readonly view: EditorView;
  private readonly language = new Compartment();
  private readonly undo: Y.UndoManager;
  private readonly unsubscribe: () => void;
  private loadedLanguage = "";
  private destroyed = false;

  constructor(parent: HTMLElement, private readonly doc: SharedDoc) {
    const code = doc.name === "code";
    this.undo = new Y.UndoManager(doc.text);
    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc: doc.text.toString(),
        extensions: [
          code ? [lineNumbers(), highlightActiveLineGutter(), bracketMatching(), indentOnInput(), keymap.of([indentWithTab])] : EditorView.lineWrapping,
          drawSelection(),
          highlightActiveLine(),
          // Undo is Yjs's: it takes back one's own edits, never another editor's.
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
          placeholder(code ? "Write or paste code here. Everyone with the link sees it live." : "Take notes together. Markdown works: # heading, **bold**, - list."),
          this.language.of([]),
          oneDark,
          sizing,
          remoteLabels,
          yCollab(doc.text, doc.awareness, { undoManager: this.undo }),
          EditorView.contentAttributes.of({ "aria-label": code ? "Code editor" : "Meeting notes" }),
        ],
      }),
    });
    this.unsubscribe = doc.onChange((c) => {
      if (c.kind === "language") void this.applyLanguage();
    });
    void this.applyLanguage();
  }

  focus(): void {
    this.view.focus();
  }

  destroy(): void {
    this.destroyed = true;
    this.unsubscribe();
    this.view.destroy();
    this.undo.destroy();
  }

  private async applyLanguage(): Promise<void> {
    if (this.doc.name === "notes") {
      if (this.loadedLanguage) return;
      this.loadedLanguage = "markdown";
      const { markdown } = await import("@codemirror/lang-markdown");
      if (!this.destroyed) this.view.dispatch({ effects: this.language.reconfigure(markdown()) });
      return;
    }
    const id = this.doc.language;
    if (id === this.loadedLanguage) return;
    this.loadedLanguage = id;
    try {
      const ext = (await languageById(id)?.load()) ?? [];
      // Another change may have come while this one loaded.
      if (!this.destroyed && this.loadedLanguage === id) this.view.dispatch({ effects: this.language.reconfigure(ext) });
    } catch (e) {
      console.warn(`huddle: language ${id}`, e);
    }
  }
}

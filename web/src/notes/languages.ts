// The code pad's languages: the id stored in the document (Y.Map "meta",
// key "language"; also the snapshot's language, [a-z0-9+#-]), the name in
// the Language select, the file extension for Download, and the CodeMirror
// support, loaded on first use (each package is its own chunk of the build).
import type { Extension } from "@codemirror/state";

export interface Language {
  id: string;
  label: string;
  ext: string;
  load: () => Promise<Extension>;
}

export const DEFAULT_LANGUAGE = "plaintext";

export const LANGUAGES: readonly Language[] = [
  { id: "plaintext", label: "Plain text", ext: "txt", load: async () => [] },
  {
    id: "c",
    label: "C",
    ext: "c",
    load: async () => (await import("./lang-c")).cLanguage,
  },
  { id: "cpp", label: "C++", ext: "cpp", load: async () => (await import("@codemirror/lang-cpp")).cpp() },
  { id: "java", label: "Java", ext: "java", load: async () => (await import("@codemirror/lang-java")).java() },
  { id: "python", label: "Python", ext: "py", load: async () => (await import("@codemirror/lang-python")).python() },
  { id: "javascript", label: "JavaScript", ext: "js", load: async () => (await import("@codemirror/lang-javascript")).javascript() },
  { id: "typescript", label: "TypeScript", ext: "ts", load: async () => (await import("@codemirror/lang-javascript")).javascript({ typescript: true }) },
  { id: "go", label: "Go", ext: "go", load: async () => (await import("@codemirror/lang-go")).go() },
  { id: "rust", label: "Rust", ext: "rs", load: async () => (await import("@codemirror/lang-rust")).rust() },
  { id: "sql", label: "SQL", ext: "sql", load: async () => (await import("@codemirror/lang-sql")).sql() },
];

export function languageById(id: string): Language | undefined {
  return LANGUAGES.find((l) => l.id === id);
}

// The video filters a participant can put on their camera, by id, with the
// names the UI shows (those names are the accessible names tests look for),
// and the choice remembered per browser.

export const FILTERS = [
  { id: "none", name: "None" },
  { id: "grayscale", name: "Grayscale" },
  { id: "sepia", name: "Sepia" },
  { id: "invert", name: "Invert" },
  { id: "blur", name: "Blur" },
  { id: "pixelate", name: "Pixelate" },
  { id: "mirror", name: "Mirror" },
  { id: "vintage", name: "Vintage" },
  { id: "comic", name: "Comic" },
  { id: "background-blur", name: "Background blur" },
] as const;

export type FilterId = (typeof FILTERS)[number]["id"];

const PREF_KEY = "huddle.filter";

export function isFilterId(v: unknown): v is FilterId {
  return FILTERS.some((f) => f.id === v);
}

export function filterName(id: FilterId): string {
  return FILTERS.find((f) => f.id === id)?.name ?? id;
}

export function loadFilterChoice(): FilterId {
  try {
    const v = localStorage.getItem(PREF_KEY);
    return isFilterId(v) ? v : "none";
  } catch {
    return "none";
  }
}

export function saveFilterChoice(id: FilterId): void {
  try {
    localStorage.setItem(PREF_KEY, id);
  } catch {
    /* storage may be unavailable (private mode) */
  }
}

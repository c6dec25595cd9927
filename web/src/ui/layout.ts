// Layout of the call's stage: how many columns the grid has and how large
// its tiles are, or, when one tile is featured (pinned, a shared screen, the
// active speaker in the Speaker layout), how large it is and where the others
// go: a column beside it on wide screens, a row under it on narrow ones.
// Pure functions of the stage size and tile counts (no DOM), so a layout is
// only computed again when one of those changes.

export type LayoutMode = "grid" | "speaker";

// Space between tiles and around them (CSS px).
export const GAP = 12;
// Width of the column of other tiles beside a featured tile (CSS px).
export const STRIP_W = 224;
// A stage narrower than this puts the other tiles under the featured one.
export const SIDE_STRIP_MIN_W = 800;
// A stage narrower than this is a phone: tiles may be taller than 16:9.
export const PHONE_MAX_W = 600;
// Height of the row of other tiles under a featured tile (CSS px).
export const BOTTOM_STRIP_H = 96;
// Tiles are 16:9 (a camera's picture); on phones anything from 3:4 to 16:9.
export const ASPECT = 16 / 9;
export const PHONE_MIN_ASPECT = 3 / 4;

export interface Size {
  w: number;
  h: number;
}

// Arrangement: "grid" (no featured tile), "side" (featured + a column of
// the others), "bottom" (featured + a row under it), "alone" (featured only).
export type Arrangement = "grid" | "side" | "bottom" | "alone";

export interface StageLayout {
  arrangement: Arrangement;
  cols: number; // grid columns ("grid" only)
  tile: Size; // size of each grid / strip tile
  featured: Size; // size of the featured tile ({0,0} in "grid")
  gridWidth: number; // width of the grid box ("grid" only; rows stay centred)
}

// fitAspect: the largest rectangle with an aspect ratio in [minA, maxA]
// inside a w x h cell.
export function fitAspect(w: number, h: number, minA: number, maxA: number): Size {
  if (w <= 0 || h <= 0) return { w: 0, h: 0 };
  const r = w / h;
  if (r > maxA) return { w: h * maxA, h };
  if (r < minA) return { w, h: w / minA };
  return { w, h };
}

// gridFit: the column count giving the largest tiles for n tiles in W x H.
export function gridFit(n: number, W: number, H: number, minA: number, maxA: number): { cols: number; tile: Size } {
  let best = { cols: 1, tile: { w: 0, h: 0 } };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(Math.max(1, n) / cols);
    const cell = fitAspect((W - GAP * (cols - 1)) / cols, (H - GAP * (rows - 1)) / rows, minA, maxA);
    if (cell.w * cell.h > best.tile.w * best.tile.h) best = { cols, tile: cell };
  }
  return { cols: best.cols, tile: { w: Math.floor(best.tile.w), h: Math.floor(best.tile.h) } };
}

// stageLayout lays out n grid tiles (others) and maybe one featured tile in
// a stage of W x H (its content box). fillFeatured: the featured tile takes
// all its space (a screen, shown whole inside it) rather than a 16:9 box.
export function stageLayout(W: number, H: number, others: number, featured: boolean, fillFeatured: boolean): StageLayout {
  const phone = W < PHONE_MAX_W;
  const minA = phone ? PHONE_MIN_ASPECT : ASPECT;
  const none = { w: 0, h: 0 };
  if (!featured) {
    const { cols, tile } = gridFit(others, W, H, minA, ASPECT);
    return { arrangement: "grid", cols, tile, featured: none, gridWidth: cols * tile.w + (cols - 1) * GAP };
  }
  const fit = (w: number, h: number): Size => {
    const s = fillFeatured ? { w, h } : fitAspect(w, h, minA, ASPECT);
    return { w: Math.max(0, Math.floor(s.w)), h: Math.max(0, Math.floor(s.h)) };
  };
  if (others === 0) return { arrangement: "alone", cols: 0, tile: none, featured: fit(W, H), gridWidth: 0 };
  if (W >= SIDE_STRIP_MIN_W) {
    return {
      arrangement: "side",
      cols: 1,
      tile: { w: STRIP_W, h: Math.floor(STRIP_W / ASPECT) },
      featured: fit(W - STRIP_W - GAP, H),
      gridWidth: STRIP_W,
    };
  }
  const stripH = Math.min(BOTTOM_STRIP_H, Math.floor(H / 4));
  return {
    arrangement: "bottom",
    cols: others,
    tile: { w: Math.floor(stripH * (phone ? 1 : ASPECT)), h: stripH },
    featured: fit(W, H - stripH - GAP),
    gridWidth: W,
  };
}

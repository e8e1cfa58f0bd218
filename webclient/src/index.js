// Public entry of dist/chromatile.js.
export { createViewer } from './api.js';
export { startPage } from './page.js';
export { showCatalog } from './ui/catalog.js';
export { encodeState, decodeState } from './url-state.js';
export { COLORMAPS, BLENDS, MAX_CHANNELS } from './shader-builder.js';

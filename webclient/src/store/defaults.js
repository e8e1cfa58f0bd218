// Channel defaults for a store without `omero` fields: the JS twin of the store contract's defaults
// (server/chromatile/storemeta.py: default_label, default_color, DEFAULT_COLORS; docs/store-format.md).
// Change both together.
//   label   `Channel {c}` (c 0-based)
//   colour  a single-channel image: FFFFFF; else PALETTE[c % 7] (ingest's palette)
//   active  c < 4
//   window  the channel's min/max from the `chromatile` stats when present, else 0..dtype max

export const PALETTE = ['0000FF', '00FF00', 'FF0000', 'FF00FF', '00FFFF', 'FFFF00', 'FFFFFF'];

/** The largest value of a data type ('uint8', 'uint16'). */
export function dtypeMax(name) { return name === 'uint8' ? 255 : 65535; }

function hexColor(c) {
  const s = String(c || '').replace(/^#/, '');
  return /^[0-9a-fA-F]{6}$/.test(s) ? '#' + s.toLowerCase() : null;
}

/**
 * The viewer's settings of each of `sizeC` channels from the `omero` block and our `chromatile`
 * extras (either may be missing or partial), defaults filled in as above.
 */
export function channelSettings(sizeC, dtypeName, omero = {}, extra = {}) {
  const top = dtypeMax(dtypeName);
  const out = [];
  for (let c = 0; c < sizeC; c++) {
    const oc = (omero.channels || [])[c] || {};
    const ex = (extra.channels || [])[c] || {};
    const rd = (extra.rendering || [])[c] || {};
    const win = oc.window || {};
    const min = Number.isFinite(ex.min) ? ex.min : 0;
    const max = Number.isFinite(ex.max) ? ex.max : top;
    out.push({
      label: oc.label || `Channel ${c}`,
      color: hexColor(oc.color) || (sizeC === 1 ? '#ffffff' : '#' + PALETTE[c % PALETTE.length].toLowerCase()),
      window: [Number.isFinite(win.start) ? win.start : min, Number.isFinite(win.end) ? win.end : max],
      visible: oc.active !== undefined ? Boolean(oc.active) : c < 4,
      gamma: Number.isFinite(rd.gamma) ? rd.gamma : 1,
      invert: Boolean(oc.inverted),
      colormap: rd.colormap || 'color',
      histogram: ex.histogram || null,
      min,
      max,
    });
  }
  return out;
}

// A fake ImageSource (only what the planner and the view maths read): a square pyramid halving per level.
export function makeSource({ width = 1024, height = 1024, tile = 64, levels = 5, sizeZ = 12, sizeT = 1, sizeC = 2 } = {}) {
  const lvls = [];
  for (let i = 0; i < levels; i++) {
    const d = 2 ** i;
    const size = { t: sizeT, c: sizeC, z: sizeZ, y: Math.ceil(height / d), x: Math.ceil(width / d) };
    const chunk = { t: 1, c: 1, z: 1, y: tile, x: tile };
    lvls.push({ size, chunk, downsample: d, tilesX: Math.ceil(size.x / tile), tilesY: Math.ceil(size.y / tile),
      planes: 1, dtype: { name: 'uint16', size: 2 }, compressor: null, fill: 0 });
  }
  return { url: 'fake', token: null, name: 'fake', levels: lvls, dtype: { name: 'uint16', size: 2 }, width, height,
    sizeZ, sizeT, sizeC, defaultZ: 0, defaultT: 0, pixelSize: 1, unit: null, channels: [], attrs: {} };
}

/** A tileState function over a Set of drawable tile keys 'level/t/z/ty/tx' (and settled ones). */
export function residency(drawable, settled = new Set()) {
  return ({ level, t, z, ty, tx }) => {
    const k = `${level}/${t}/${z}/${ty}/${tx}`;
    return drawable.has(k) ? 2 : settled.has(k) ? 1 : 0;
  };
}

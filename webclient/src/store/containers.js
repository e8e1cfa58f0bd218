// Containers of several images: a bioformats2raw layout root (series), an HCS plate (wells, fields)
// and a single well (fields). Each resolves to the one image to show and what else it holds, for the
// picker (ui/container-picker.js).
import { StoreError } from './http.js';
import { readNode } from './node.js';

/** The kind of container `attrs` (OME attributes of a group) describe, or null. */
export function containerKind(attrs) {
  if (attrs.plate) return 'plate';
  if (attrs.well) return 'well';
  if (attrs['bioformats2raw.layout'] !== undefined) return 'bioformats2raw';
  return null;
}

async function seriesOf(base, token) {
  // The series list lives in OME/ (.zattrs or zarr.json); without it, series are 0, 1, 2... in order.
  const ome = await readNode(`${base}/OME`, token).catch(() => null);
  if (ome && Array.isArray(ome.attrs.series) && ome.attrs.series.length) return ome.attrs.series.map(String);
  const found = [];
  for (let i = 0; i < 1000; i++) {
    const node = await readNode(`${base}/${i}`, token).catch(() => null);
    if (!node || !node.attrs.multiscales) break;
    found.push(String(i));
  }
  return found;
}

function pick(items, wanted, what, base) {
  if (!items.length) throw new StoreError(`${base} holds no images (no ${what} listed)`);
  if (wanted === null || wanted === undefined || wanted === '') return items[0];
  if (!items.includes(wanted)) throw new StoreError(`${base} has no ${what} "${wanted}" (it has ${items.slice(0, 12).join(', ')}${items.length > 12 ? ', ...' : ''})`);
  return wanted;
}

async function fieldsOf(wellUrl, token) {
  const node = await readNode(wellUrl, token);
  const images = (node.attrs.well && node.attrs.well.images) || [];
  return images.map((im) => String(im.path));
}

/**
 * The image to open inside the container at `base` (its node `node`) and the container's listing.
 * `image` picks one by its path under `base` (a series "1", a plate field "B/3/0", a well field "0");
 * the first one when empty. Resolves to {path, container}.
 */
export async function resolveContainer(base, node, token, image) {
  const kind = containerKind(node.attrs);
  if (kind === 'bioformats2raw') {
    const series = await seriesOf(base, token);
    const path = pick(series, image, 'series', base);
    return { path, container: { kind, root: base, items: series.map((p, i) => ({ path: p, label: `Series ${i}` })), current: path } };
  }
  if (kind === 'well') {
    const fields = await fieldsOf(base, token);
    const path = pick(fields, image, 'field', base);
    return { path, container: { kind, root: base, items: fields.map((p) => ({ path: p, label: `Field ${p}` })), current: path } };
  }
  const plate = node.attrs.plate;
  const rows = (plate.rows || []).map((r) => String(r.name));
  const columns = (plate.columns || []).map((c) => String(c.name));
  const wells = (plate.wells || []).map((w) => ({ path: String(w.path), row: w.rowIndex, column: w.columnIndex }))
    .sort((a, b) => a.row - b.row || a.column - b.column);
  let wellPath = wells.length ? wells[0].path : null;
  let field = null;
  if (image) {
    const at = image.lastIndexOf('/');
    wellPath = pick(wells.map((w) => w.path), image.slice(0, Math.max(0, at)), 'well', base);
    field = image.slice(at + 1);
  }
  if (!wellPath) throw new StoreError(`${base} is a plate with no wells`);
  const fields = await fieldsOf(`${base}/${wellPath}`, token);
  field = pick(fields, field, 'field', `${base}/${wellPath}`);
  const path = `${wellPath}/${field}`;
  return { path, container: { kind, root: base, name: plate.name || base.split('/').pop(), rows, columns, wells,
    well: wellPath, items: fields.map((p) => ({ path: `${wellPath}/${p}`, label: `Field ${p}` })), current: path } };
}

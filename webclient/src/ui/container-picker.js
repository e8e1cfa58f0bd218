// Picker for an image inside a container: a series list (bioformats2raw), a plate's well grid and its
// fields, or a well's fields. Picking calls onPick(path under the container root).
import { h } from './dom.js';

function select(label, items, current, onPick) {
  const el = h('select.ct-picker-select', { 'aria-label': label, onchange: (e) => onPick(e.target.value) },
    items.map((it) => h('option', { value: it.path, selected: it.path === current }, it.label)));
  return h('label.ct-picker-row', {}, `${label} `, el);
}

function plateGrid(c, onPick) {
  const byPos = new Map(c.wells.map((w) => [`${w.row},${w.column}`, w]));
  const table = h('table.ct-plate', { 'aria-label': `Plate ${c.name}` },
    h('tr', {}, h('th'), c.columns.map((col) => h('th', {}, col))),
    c.rows.map((row, r) => h('tr', {}, h('th', {}, row), c.columns.map((col, k) => {
      const w = byPos.get(`${r},${k}`);
      if (!w) return h('td.ct-plate-empty');
      return h('td', {}, h('button.ct-plate-well', {
        type: 'button', title: `Well ${row}${col}`, dataset: { well: w.path },
        'aria-pressed': w.path === c.well ? 'true' : 'false',
        onclick: () => onPick(`${w.path}/0`),
      }, ''));
    }))));
  return table;
}

/** The picker for `container` (ImageSource.container), as one element. */
export function buildContainerPicker(container, onPick) {
  const c = container;
  const box = h('div.ct-picker', { dataset: { kind: c.kind } });
  if (c.kind === 'bioformats2raw') box.append(select('Series', c.items, c.current, onPick));
  else if (c.kind === 'well') box.append(select('Field', c.items, c.current, onPick));
  else {
    box.append(h('div.ct-picker-row', {}, `Plate ${c.name} · well ${c.well}`), plateGrid(c, onPick));
    if (c.items.length > 1) box.append(select('Field', c.items, c.current, onPick));
  }
  return box;
}

// Per-channel controls, usable with 40+ channels: a filter box over channel names, "only visible",
// show/hide all shown rows, channel groups, and one compact row per channel (visibility, colour, name)
// that expands into its histogram with window handles, numeric min/max, colormap, gamma, invert and
// auto-contrast. Plus blend mode and a global reset.
import { h, setProp } from './dom.js';
import { HistogramView, percentileWindow } from './histogram.js';
import { groupFromState, applyGroup } from './groups.js';

// Up to this many channels every row starts expanded; beyond, rows start collapsed.
const EXPANDED_UP_TO = 4;
// The filter, "only visible" and show/hide all appear from this many channels on.
const FILTER_FROM = 7;

/** Whether `label` matches `filter`: it contains any of the filter's comma-separated parts, case-insensitive. */
export function matchesFilter(label, filter) {
  const terms = filter.toLowerCase().split(',').map((t) => t.trim()).filter(Boolean);
  return !terms.length || terms.some((t) => label.toLowerCase().includes(t));
}

/** The options of a colormap menu (user colormaps defined at run time included). */
function colormapOptions(names) {
  return names.map((n) => h('option', { value: n }, n === 'color' ? 'channel colour' : n));
}

function buildRow(viewer, meta, i, dtypeMax, expanded) {
  const set = (s) => viewer.setChannel(i, s);
  const visible = h('input.ct-visible', { type: 'checkbox', onchange: (e) => set({ visible: e.target.checked }), 'aria-label': `Show ${meta.label}` });
  const color = h('input.ct-color', { type: 'color', oninput: (e) => set({ color: e.target.value }), 'aria-label': `Colour of ${meta.label}` });
  const expand = h('button.ct-expand', { type: 'button', 'aria-expanded': 'false', 'aria-label': `Settings of ${meta.label}` }, '▸');
  const body = h('div.ct-channel-body', { hidden: true });
  const el = h('div.ct-channel', { dataset: { channel: String(i) } },
    h('div.ct-channel-head', {}, expand, visible, color, h('span.ct-label', { title: meta.label }, meta.label)), body);
  const row = { el, visible, color, body, expand, meta, controls: null, drawn: '' };

  // The histogram and window controls are built on first expand: 60 rows of canvases cost more to
  // draw than the image itself.
  const buildControls = () => {
    const cmap = h('select.ct-colormap', { onchange: (e) => set({ colormap: e.target.value }), 'aria-label': `Colormap of ${meta.label}` },
      colormapOptions(viewer.colormaps));
    const numberInput = (cls, label) => h(`input.${cls}`, { type: 'number', step: 'any', 'aria-label': label,
      onchange: () => set({ window: [Number(c.lo.value), Number(c.hi.value)] }) });
    const c = { cmap, lo: numberInput('ct-lo', `Window minimum of ${meta.label}`), hi: numberInput('ct-hi', `Window maximum of ${meta.label}`) };
    c.gamma = h('input.ct-gamma', { type: 'range', min: '0.1', max: '4', step: '0.05', 'aria-label': `Gamma of ${meta.label}`,
      oninput: (e) => set({ gamma: Number(e.target.value) }) });
    c.gammaText = h('span.ct-gamma-value');
    c.invert = h('input.ct-invert', { type: 'checkbox', onchange: (e) => set({ invert: e.target.checked }), 'aria-label': `Invert ${meta.label}` });
    c.hist = new HistogramView(meta, dtypeMax, (w) => set({ window: w }));
    const auto = h('button.ct-auto', { type: 'button', title: '0.1 % .. 99.9 % of the histogram',
      onclick: () => set({ window: meta.histogram ? percentileWindow(meta.histogram) : [meta.min, meta.max] }) }, 'Auto');
    body.append(c.hist.canvas,
      h('div.ct-channel-window', {}, c.lo, '–', c.hi, auto),
      h('div.ct-channel-extra', {}, cmap, h('label', {}, 'γ ', c.gamma, c.gammaText), h('label', {}, c.invert, ' invert')));
    row.controls = c;
  };
  row.setExpanded = (open) => {
    if (open && !row.controls) buildControls();
    body.hidden = !open;
    expand.textContent = open ? '▾' : '▸';
    expand.setAttribute('aria-expanded', String(open));
    row.drawn = ''; // the body shows again: redraw it from the current settings
  };
  expand.addEventListener('click', () => { row.setExpanded(body.hidden); row.onToggle(); });
  if (expanded) row.setExpanded(true);
  return row;
}

function syncRow(row, ch) {
  const key = JSON.stringify(ch);
  if (key === row.drawn) return;
  row.drawn = key;
  setProp(row.visible, 'checked', ch.visible);
  setProp(row.color, 'value', ch.color);
  const c = row.controls;
  if (!c || row.body.hidden) { row.drawn = `head:${key}`; return; }
  setProp(c.cmap, 'value', ch.colormap);
  if (document.activeElement !== c.lo) setProp(c.lo, 'value', String(ch.window[0]));
  if (document.activeElement !== c.hi) setProp(c.hi, 'value', String(ch.window[1]));
  setProp(c.gamma, 'value', String(ch.gamma));
  setProp(c.gammaText, 'textContent', ch.gamma.toFixed(2));
  setProp(c.invert, 'checked', ch.invert);
  c.hist.draw(ch.window, ch.colormap === 'color' ? ch.color : '#bbbbbb');
}

function buildGroupControls(viewer, groups, status) {
  const select = h('select.ct-group-select', { 'aria-label': 'Channel groups' });
  const remove = h('button.ct-group-delete', { type: 'button', title: 'Delete the chosen group' }, 'Delete');
  const save = h('button.ct-group-save', { type: 'button', title: 'Save the visible channels and their settings as a named group' }, 'Save group…');
  const fill = () => {
    const chosen = select.value;
    select.replaceChildren(h('option', { value: '' }, groups.list().length ? 'Show group…' : 'No groups yet'),
      ...groups.list().map((g) => h('option', { value: g.name }, `${g.name} (${g.channels.length})`)));
    select.value = groups.get(chosen) ? chosen : '';
    remove.disabled = !select.value;
  };
  select.addEventListener('change', () => {
    const g = groups.get(select.value);
    remove.disabled = !g;
    if (g) { applyGroup(viewer, g); status.textContent = `Showing group “${g.name}”.`; }
  });
  save.addEventListener('click', () => {
    const state = viewer.getState();
    if (!state.channels.some((c) => c.visible)) { status.textContent = 'Make some channels visible first: a group is the visible channels.'; return; }
    const name = (window.prompt('Name of the group of the visible channels (e.g. immune):', select.value || '') || '').trim();
    if (!name) return;
    groups.put(groupFromState(name.slice(0, 64), state));
    select.value = name.slice(0, 64);
    fill();
    status.textContent = `Group “${name}” saved (in the link; “Save as default” keeps it for everyone).`;
  });
  remove.addEventListener('click', () => {
    if (!select.value) return;
    const name = select.value;
    groups.remove(name);
    status.textContent = `Group “${name}” deleted.`;
  });
  groups.on(fill);
  fill();
  return h('div.ct-groups', {}, h('span', {}, 'Groups'), select, save, remove);
}

/** Build the panel into `container`; `groups` is the page's GroupList. Returns an unsubscribe function. */
export function buildChannelPanel(viewer, container, { groups, status }) {
  const src = viewer.source;
  const dtypeMax = src.dtype.size === 2 ? 65535 : 255;
  const blendSelect = h('select.ct-blend', { onchange: (e) => viewer.setBlend(e.target.value), 'aria-label': 'Blend mode' },
    viewer.blendModes.map((b) => h('option', { value: b }, b)));
  const filter = h('input.ct-filter', { type: 'search', placeholder: `Filter ${src.channels.length} channels, e.g. CD3, CD8`, 'aria-label': 'Filter channels by name' });
  const onlyVisible = h('input.ct-only-visible', { type: 'checkbox' });
  const count = h('span.ct-channel-count', { 'aria-live': 'polite' });
  const setShown = (visible) => {
    const channels = viewer.getState().channels.map((c, i) => (rows[i].el.hidden ? {} : { visible }));
    viewer.setState({ channels });
  };
  const showAll = h('button.ct-show-all', { type: 'button', title: 'Make every listed channel visible', onclick: () => setShown(true) }, 'Show all');
  const hideAll = h('button.ct-hide-all', { type: 'button', title: 'Hide every listed channel', onclick: () => setShown(false) }, 'Hide all');
  const empty = h('div.ct-empty', { hidden: true }, 'No channel matches.');
  container.append(
    h('div.ct-panel-head', {}, h('label', {}, 'Blend ', blendSelect),
      h('button.ct-reset', { type: 'button', onclick: () => viewer.resetChannels() }, 'Reset')),
    buildGroupControls(viewer, groups, status),
    h('div.ct-panel-head', { hidden: src.channels.length < FILTER_FROM }, filter, h('label', {}, onlyVisible, ' only visible'), showAll, hideAll, count));

  const expanded = src.channels.length <= EXPANDED_UP_TO;
  const rows = src.channels.map((meta, i) => buildRow(viewer, meta, i, dtypeMax, expanded));
  const list = h('div.ct-channel-list', {}, rows.map((r) => r.el), empty);
  container.append(list);

  // Which rows are listed: the filter and "only visible" (a row stays listed while its body is open,
  // so hiding a channel does not snatch its controls away).
  const applyFilter = (st) => {
    let shown = 0, visibleCount = 0;
    st.channels.forEach((ch, i) => {
      if (ch.visible) visibleCount++;
      const show = matchesFilter(rows[i].meta.label, filter.value) && (!onlyVisible.checked || ch.visible || !rows[i].body.hidden);
      setProp(rows[i].el, 'hidden', !show);
      if (show) shown++;
    });
    setProp(empty, 'hidden', shown > 0);
    setProp(count, 'textContent', `${shown} listed · ${visibleCount} of ${st.channels.length} visible`);
  };

  // Redraw at most once per animation frame, and only the rows whose settings changed: a handle drag
  // emits a state event per pointer move, and redrawing every histogram each time cost more than the
  // WebGL frame itself on software renderers (bench/viewer).
  let pending = false;
  const sync = () => {
    pending = false;
    const st = viewer.getState();
    if (!st) return;
    setProp(blendSelect, 'value', st.blend);
    st.channels.forEach((ch, i) => syncRow(rows[i], ch));
    applyFilter(st);
  };
  for (const r of rows) r.onToggle = sync;
  filter.addEventListener('input', sync);
  onlyVisible.addEventListener('change', sync);
  sync();
  // Colormaps and blends defined at run time join the menus.
  const offShaders = viewer.on('shaders', () => {
    blendSelect.replaceChildren(...viewer.blendModes.map((b) => h('option', { value: b }, b)));
    for (const r of rows) {
      if (r.controls) r.controls.cmap.replaceChildren(...colormapOptions(viewer.colormaps));
      r.drawn = '';
    }
    sync();
  });
  const offState = viewer.on('state', () => {
    if (!pending) { pending = true; requestAnimationFrame(sync); }
  });
  return () => { offShaders(); offState(); };
}

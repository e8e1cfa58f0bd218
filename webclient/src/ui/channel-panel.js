// Per-channel controls: visibility, label, colour, colormap, histogram with window handles, numeric
// min/max, gamma, invert, auto-contrast; plus blend mode and a global reset.
import { h } from './dom.js';
import { HistogramView, percentileWindow } from './histogram.js';
import { COLORMAPS, BLENDS } from '../shader-builder.js';

export function buildChannelPanel(viewer, container) {
  const src = viewer.source;
  const dtypeMax = src.dtype.size === 2 ? 65535 : 255;
  const rows = [];
  const blendSelect = h('select.ct-blend', { onchange: (e) => viewer.setBlend(e.target.value), 'aria-label': 'Blend mode' },
    BLENDS.map((b) => h('option', { value: b }, b)));
  container.append(h('div.ct-panel-head', {},
    h('label', {}, 'Blend ', blendSelect),
    h('button.ct-reset', { type: 'button', onclick: () => viewer.resetChannels() }, 'Reset')));

  src.channels.forEach((meta, i) => {
    const set = (s) => viewer.setChannel(i, s);
    const visible = h('input', { type: 'checkbox', onchange: (e) => set({ visible: e.target.checked }), 'aria-label': `Show ${meta.label}` });
    const color = h('input.ct-color', { type: 'color', oninput: (e) => set({ color: e.target.value }), 'aria-label': `Colour of ${meta.label}` });
    const cmap = h('select.ct-colormap', { onchange: (e) => set({ colormap: e.target.value }), 'aria-label': `Colormap of ${meta.label}` },
      COLORMAPS.map((n) => h('option', { value: n }, n === 'color' ? 'channel colour' : n)));
    const numberInput = (cls, label, onchange) => h(`input.${cls}`, { type: 'number', step: 'any', 'aria-label': label, onchange });
    const lo = numberInput('ct-lo', `Window minimum of ${meta.label}`, () => set({ window: [Number(lo.value), Number(hi.value)] }));
    const hi = numberInput('ct-hi', `Window maximum of ${meta.label}`, () => set({ window: [Number(lo.value), Number(hi.value)] }));
    const gamma = h('input.ct-gamma', { type: 'range', min: '0.1', max: '4', step: '0.05', 'aria-label': `Gamma of ${meta.label}`,
      oninput: (e) => set({ gamma: Number(e.target.value) }) });
    const gammaText = h('span.ct-gamma-value');
    const invert = h('input.ct-invert', { type: 'checkbox', onchange: (e) => set({ invert: e.target.checked }) });
    const hist = new HistogramView(meta, dtypeMax, (w) => set({ window: w }));
    const auto = h('button.ct-auto', { type: 'button', title: '0.1 % .. 99.9 % of the histogram',
      onclick: () => set({ window: meta.histogram ? percentileWindow(meta.histogram) : [meta.min, meta.max] }) }, 'Auto');
    const row = h('div.ct-channel', { dataset: { channel: String(i) } },
      h('div.ct-channel-head', {}, visible, h('span.ct-label', { title: meta.label }, meta.label), color, cmap),
      hist.canvas,
      h('div.ct-channel-window', {}, lo, '–', hi, auto),
      h('div.ct-channel-extra', {}, h('label', {}, 'γ ', gamma, gammaText), h('label', {}, invert, ' invert')));
    container.append(row);
    rows.push({ visible, color, cmap, lo, hi, gamma, gammaText, invert, hist });
  });

  // Redraw at most once per animation frame, and only the rows whose settings changed: a handle drag
  // emits a state event per pointer move, and redrawing every histogram each time cost more than the
  // WebGL frame itself on software renderers (bench/viewer).
  const drawn = rows.map(() => '');
  let pending = false;
  const sync = () => {
    pending = false;
    const st = viewer.getState();
    if (!st) return;
    blendSelect.value = st.blend;
    st.channels.forEach((ch, i) => {
      const key = JSON.stringify(ch);
      if (key === drawn[i]) return;
      drawn[i] = key;
      const r = rows[i];
      r.visible.checked = ch.visible;
      r.color.value = ch.color;
      r.cmap.value = ch.colormap;
      if (document.activeElement !== r.lo) r.lo.value = ch.window[0];
      if (document.activeElement !== r.hi) r.hi.value = ch.window[1];
      r.gamma.value = ch.gamma;
      r.gammaText.textContent = ch.gamma.toFixed(2);
      r.invert.checked = ch.invert;
      r.hist.draw(ch.window, ch.colormap === 'color' ? ch.color : '#bbbbbb');
    });
  };
  sync();
  return viewer.on('state', () => {
    if (!pending) { pending = true; requestAnimationFrame(sync); }
  });
}

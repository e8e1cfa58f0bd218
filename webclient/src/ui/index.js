// The viewer's built-in controls, all through the public viewer interface.
import { h } from './dom.js';
import { buildChannelPanel } from './channel-panel.js';
import { buildReadout, buildScaleBar, buildMinimap } from './overlays.js';
import { buildContainerPicker } from './container-picker.js';

const TOKEN_KEY = 'chromatile-admin-token';

function slider(name, onInput) {
  const input = h('input', { type: 'range', min: '0', max: '0', step: '1', 'aria-label': name, oninput: (e) => onInput(Number(e.target.value)) });
  const text = h('span.ct-slider-value');
  const el = h('label.ct-slider', { dataset: { axis: name } }, `${name} `, input, text);
  return { el, input, text };
}

/** Save the current channel settings as the image's defaults on the server (admin token). */
export async function saveDefaults(viewer, url, token) {
  const { channels } = viewer.getState(); // already copies holding exactly the saved fields
  const response = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ channels }) });
  if (!response.ok) {
    let detail = '';
    try { detail = (await response.json()).error; } catch { /* not JSON */ }
    throw new Error(`Saving defaults failed: HTTP ${response.status}${detail ? ` - ${detail}` : ''}`);
  }
  return response.json();
}

export function buildUi(viewer, options) {
  const sidebar = h('aside.ct-sidebar');
  viewer.root.append(sidebar);
  const readout = buildReadout(viewer);
  const overlay = h('div.ct-overlay', {}, buildScaleBar(viewer), readout);
  const minimap = buildMinimap(viewer);
  minimap.classList.add('ct-overlay-control');
  viewer.stage.append(overlay, minimap);

  const zs = slider('Z', (v) => viewer.setZ(v));
  const ts = slider('T', (v) => viewer.setT(v));
  const status = h('div.ct-status', { 'aria-live': 'polite' });
  const exportLink = h('button.ct-export', { type: 'button', onclick: async () => {
    const blob = await viewer.exportPNG();
    const a = h('a', { href: URL.createObjectURL(blob), download: `${viewer.source.name}-z${viewer.state.z}.png` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } }, 'Export PNG');
  const tools = h('div.ct-tools', {},
    h('button.ct-fit', { type: 'button', onclick: () => viewer.fit() }, 'Fit'), exportLink);
  if (options.adminUrl) {
    const saveBtn = h('button.ct-save-default', { type: 'button', onclick: async () => {
      let token = sessionStorage.getItem(TOKEN_KEY);
      if (!token) {
        token = window.prompt('Admin token to save these settings as the image defaults:');
        if (!token) return;
      }
      try {
        await saveDefaults(viewer, options.adminUrl, token);
        sessionStorage.setItem(TOKEN_KEY, token);
        status.textContent = 'Saved as the image defaults.';
      } catch (err) {
        if (/HTTP 40[13]/.test(err.message)) sessionStorage.removeItem(TOKEN_KEY);
        viewer.showMessage('save', err.message);
      }
    } }, 'Save as default');
    tools.append(saveBtn);
  }
  const title = h('h2.ct-title');
  const channels = h('div.ct-channels');
  sidebar.append(title, tools, zs.el, ts.el, channels, status);

  const offs = [];
  viewer.on('open', (src) => {
    title.textContent = src.name;
    title.title = src.url;
    zs.input.max = String(src.sizeZ - 1);
    ts.input.max = String(src.sizeT - 1);
    zs.el.hidden = src.sizeZ < 2;
    ts.el.hidden = src.sizeT < 2;
    if (src.container && options.onPickImage) sidebar.insertBefore(buildContainerPicker(src.container, options.onPickImage), tools);
    offs.push(buildChannelPanel(viewer, channels));
    syncSliders();
  });
  const syncSliders = () => {
    const st = viewer.state, src = viewer.source;
    if (!st) return;
    zs.input.value = String(st.z); zs.text.textContent = `${st.z + 1} / ${src.sizeZ}`;
    ts.input.value = String(st.t); ts.text.textContent = `${st.t + 1} / ${src.sizeT}`;
  };
  offs.push(viewer.on('state', syncSliders));
  return { destroy: () => { offs.forEach((f) => f()); sidebar.remove(); overlay.remove(); minimap.remove(); } };
}

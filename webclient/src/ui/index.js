// The viewer's built-in controls, all through the public viewer interface.
import { h, setProp } from './dom.js';
import { buildChannelPanel } from './channel-panel.js';
import { buildReadout, buildScaleBar, buildMinimap } from './overlays.js';
import { buildContainerPicker } from './container-picker.js';
import { GroupList, cleanGroups } from './groups.js';
import { buildShaderControls, buildShaderEditor } from './shader-editor.js';

const TOKEN_KEY = 'chromatile-admin-token';
// Below this width (CSS px) the side panel folds away behind a toggle and the minimap shrinks; a page
// may move it with the CSS custom property --ct-fold-below on .ct-viewer (e.g. 0px: never fold).
const FOLD_BELOW = 700;
// Below these stage sizes the minimap hides: it would cover too much of the image.
const MINIMAP_MIN = { width: 200, height: 160 };

function slider(name, onInput) {
  const input = h('input', { type: 'range', min: '0', max: '0', step: '1', 'aria-label': name, oninput: (e) => onInput(Number(e.target.value)) });
  const text = h('span.ct-slider-value');
  const el = h('label.ct-slider', { dataset: { axis: name } }, `${name} `, input, text);
  return { el, input, text };
}

/** "3 / 5": planes are counted from 1 wherever a person reads them (slider, readout). */
export function planeText(i, n) {
  return `${i + 1} / ${n}`;
}

/** Save the current channel settings (and channel groups) as the image's defaults on the server (admin token). */
export async function saveDefaults(viewer, url, token, groups = []) {
  // Copies holding exactly the saved fields; the shader (null: the built-in) with the user colormaps
  // and blends the channels and shader use.
  const { channels, shader, definitions } = viewer.getState();
  const response = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ channels, groups, shader: shader || null, definitions: definitions || {} }) });
  if (!response.ok) {
    let detail = '';
    try { detail = (await response.json()).error; } catch { /* not JSON */ }
    throw new Error(`Saving defaults failed: HTTP ${response.status}${detail ? ` - ${detail}` : ''}`);
  }
  return response.json();
}

function foldBelow(root) {
  const v = parseFloat(getComputedStyle(root).getPropertyValue('--ct-fold-below'));
  return Number.isFinite(v) ? v : FOLD_BELOW;
}

/** Fold the panel and shrink or hide the minimap as the viewer's size changes. */
function followSize(viewer, toggle) {
  const root = viewer.root;
  let narrow = null;
  const update = () => {
    const w = root.clientWidth;
    const nowNarrow = w > 0 && w < foldBelow(root);
    if (nowNarrow !== narrow) {
      narrow = nowNarrow;
      root.classList.toggle('ct-narrow', narrow);
      // Entering the narrow layout folds the panel; it opens over the image with the toggle.
      root.classList.toggle('ct-panel-closed', narrow);
      toggle.setAttribute('aria-expanded', String(!narrow));
    }
    const stage = viewer.stage;
    root.classList.toggle('ct-no-minimap', stage.clientWidth < MINIMAP_MIN.width || stage.clientHeight < MINIMAP_MIN.height);
  };
  const observer = new ResizeObserver(update);
  observer.observe(root);
  observer.observe(viewer.stage);
  update();
  return () => observer.disconnect();
}

export function buildUi(viewer, options) {
  const sidebar = h('aside.ct-sidebar', { id: `ct-panel-${Math.random().toString(36).slice(2, 8)}` });
  const toggle = h('button.ct-panel-toggle', { type: 'button', 'aria-controls': sidebar.id, title: 'Channels and settings',
    onclick: () => {
      const closed = viewer.root.classList.toggle('ct-panel-closed');
      toggle.setAttribute('aria-expanded', String(!closed));
    } }, '☰ Channels');
  viewer.root.append(sidebar, toggle);
  const readout = buildReadout(viewer);
  const overlay = h('div.ct-overlay', {}, buildScaleBar(viewer), readout);
  const minimap = buildMinimap(viewer);
  minimap.classList.add('ct-overlay-control');
  viewer.stage.append(overlay, minimap);
  const groups = new GroupList();

  const zs = slider('Z', (v) => viewer.setZ(v));
  const ts = slider('T', (v) => viewer.setT(v));
  const status = h('div.ct-status', { 'aria-live': 'polite' });
  const exportLink = h('button.ct-export', { type: 'button', onclick: async () => {
    const blob = await viewer.exportPNG();
    const a = h('a', { href: URL.createObjectURL(blob), download: `${viewer.source.name}-z${viewer.getState().z}.png` });
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
        await saveDefaults(viewer, options.adminUrl, token, groups.list());
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
  const shaderControls = buildShaderControls(viewer);
  const shaderEditor = buildShaderEditor(viewer);
  tools.append(shaderEditor.toggle);
  sidebar.append(title, tools, shaderEditor.panel, zs.el, ts.el, shaderControls.el, channels, status);

  const offs = [followSize(viewer, toggle), shaderControls.destroy, shaderEditor.destroy];
  viewer.on('open', (src) => {
    title.textContent = src.name;
    title.title = src.url;
    zs.input.max = String(src.sizeZ - 1);
    ts.input.max = String(src.sizeT - 1);
    zs.el.hidden = src.sizeZ < 2;
    ts.el.hidden = src.sizeT < 2;
    if (src.container && options.onPickImage) sidebar.insertBefore(buildContainerPicker(src.container, options.onPickImage), tools);
    // The store's saved groups ("Save as default"); a link's own groups replace them (page.js).
    groups.replace(cleanGroups(src.attrs && src.attrs.chromatile && src.attrs.chromatile.groups, src.sizeC));
    offs.push(buildChannelPanel(viewer, channels, { groups, status }));
    syncSliders();
  });
  const syncSliders = () => {
    const st = viewer.getState(), src = viewer.source;
    if (!st) return;
    setProp(zs.input, 'value', String(st.z)); setProp(zs.text, 'textContent', planeText(st.z, src.sizeZ));
    setProp(ts.input, 'value', String(st.t)); setProp(ts.text, 'textContent', planeText(st.t, src.sizeT));
  };
  offs.push(viewer.on('state', syncSliders));
  return { groups, destroy: () => { offs.forEach((f) => f()); sidebar.remove(); toggle.remove(); overlay.remove(); minimap.remove(); } };
}

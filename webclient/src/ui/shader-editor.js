// The shader editor and the compositing shader's controls (issue 11). The editor shows the current
// compositing as GLSL (the built-in `composite()` as a starting point, or a shader that came with the
// link but was not run), compiles it a moment after typing stops, marks an error at its line and keeps
// the last program that compiled drawing. The controls are the shader's #uicontrol lines: a slider,
// colour picker or checkbox each, set through viewer.setShaderControl.
import { h, setProp } from './dom.js';
import { BUILTIN_COMPOSITE } from '../shader-builder.js';

// Compile this long after the last keystroke (ms).
const COMPILE_DELAY = 400;

/** The #uicontrol controls of the current shader, rebuilt when the shader changes. */
export function buildShaderControls(viewer) {
  const el = h('div.ct-shader-controls', { hidden: true });
  const rebuild = () => {
    const controls = viewer.shaderControls;
    el.hidden = controls.length === 0;
    el.replaceChildren(h('div.ct-shader-controls-title', {}, 'Shader controls'), ...controls.map((c) => {
      const set = (v) => viewer.setShaderControl(c.name, v);
      let input, text = null;
      if (c.type === 'float') {
        text = h('span.ct-control-value', {}, String(c.value));
        input = h('input', { type: 'range', min: String(c.min), max: String(c.max), step: c.step > 0 ? String(c.step) : 'any', value: String(c.value),
          dataset: { control: c.name }, 'aria-label': c.name, oninput: (e) => set(Number(e.target.value)) });
      } else if (c.type === 'vec3') {
        input = h('input', { type: 'color', value: c.value, dataset: { control: c.name }, 'aria-label': c.name, oninput: (e) => set(e.target.value) });
      } else {
        input = h('input', { type: 'checkbox', checked: c.value, dataset: { control: c.name }, 'aria-label': c.name, onchange: (e) => set(e.target.checked) });
      }
      return h('label.ct-shader-control', {}, `${c.name} `, input, text);
    }));
  };
  const sync = () => {
    for (const c of viewer.shaderControls) {
      const input = el.querySelector(`[data-control="${c.name}"]`);
      if (!input || document.activeElement === input) continue;
      if (c.type === 'bool') setProp(input, 'checked', c.value); else setProp(input, 'value', String(c.value));
      const text = input.parentElement.querySelector('.ct-control-value');
      if (text) setProp(text, 'textContent', String(c.value));
    }
  };
  rebuild();
  const offs = [viewer.on('shaders', rebuild), viewer.on('state', sync)];
  return { el, destroy: () => offs.forEach((f) => f()) };
}

/** The editor panel and its toggle button. */
export function buildShaderEditor(viewer) {
  const source = h('textarea.ct-shader-source', { spellcheck: false, 'aria-label': 'Compositing shader (GLSL)', rows: 16, wrap: 'off' });
  const gutter = h('pre.ct-shader-lines', { 'aria-hidden': 'true' });
  const error = h('pre.ct-shader-error', { role: 'alert', hidden: true });
  const note = h('div.ct-shader-note', { hidden: true });
  const reset = h('button.ct-shader-reset', { type: 'button', title: 'Back to the built-in compositing' }, 'Reset');
  const panel = h('div.ct-shader-editor', { hidden: true },
    h('div.ct-shader-head', {}, h('span', {}, 'Compositing shader'), reset), note,
    h('div.ct-shader-code', {}, gutter, source), error);
  const toggle = h('button.ct-shader-toggle', { type: 'button', 'aria-expanded': 'false', title: 'Edit the compositing shader (GLSL)' }, 'Shader');
  let errorLine = 0;
  let timer = null;

  const drawGutter = () => {
    const n = source.value.split('\n').length;
    gutter.replaceChildren(...Array.from({ length: n }, (_, i) =>
      h(i + 1 === errorLine ? 'span.ct-error-line' : 'span', {}, `${i + 1}\n`)));
    gutter.scrollTop = source.scrollTop;
  };
  const showError = (err) => {
    errorLine = err ? err.line || 1 : 0;
    error.hidden = !err;
    error.textContent = err ? err.message : '';
    drawGutter();
  };
  const current = () => {
    const st = viewer.getState();
    if (st && st.shader) return st.shader.source;
    const offered = viewer.offeredShader;
    return offered && offered.shader ? offered.shader.source : BUILTIN_COMPOSITE;
  };
  const load = () => {
    source.value = current();
    const offered = viewer.offeredShader;
    note.hidden = !(offered && offered.shader && !(viewer.getState() || {}).shader);
    note.textContent = 'This view came with the custom shader below, which was not run: edit it or type to run it.';
    showError(null);
  };
  const compile = () => {
    timer = null;
    const text = source.value;
    try {
      // The unchanged built-in text is the built-in compositing (nothing to store in the state).
      viewer.setShader(text.trim() === BUILTIN_COMPOSITE.trim() ? null : text);
      note.hidden = true;
      showError(null);
    } catch (err) {
      showError(err); // the last program that compiled keeps drawing
    }
  };
  source.addEventListener('input', () => {
    drawGutter();
    if (timer) clearTimeout(timer);
    timer = setTimeout(compile, COMPILE_DELAY);
  });
  source.addEventListener('scroll', () => { gutter.scrollTop = source.scrollTop; });
  // Tab indents instead of leaving the editor.
  source.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    e.preventDefault();
    source.setRangeText('  ', source.selectionStart, source.selectionEnd, 'end');
    source.dispatchEvent(new Event('input'));
  });
  reset.addEventListener('click', () => {
    if (timer) { clearTimeout(timer); timer = null; }
    viewer.setShader(null);
    source.value = BUILTIN_COMPOSITE;
    note.hidden = true;
    showError(null);
  });
  toggle.addEventListener('click', () => {
    const open = panel.hidden;
    if (open && !timer) load();
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  });
  // A shader set elsewhere (API, link) shows in a closed editor the next time it opens; an open one
  // follows it unless its own text is being compiled.
  const off = viewer.on('shaders', () => {
    if (!panel.hidden && !timer && document.activeElement !== source && source.value !== current()) load();
  });
  return { panel, toggle, destroy: off };
}

// Mouse, touch and keyboard: pan, zoom, fit, Z/T steps. Only calls the viewer's public methods.

export function attachInteraction(viewer) {
  const stage = viewer.stage;
  const pointers = new Map();
  let pinch = null;

  const local = (e) => {
    const r = stage.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  stage.addEventListener('pointerdown', (e) => {
    if (e.target.closest('.ct-overlay-control')) return;
    stage.focus();
    stage.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, local(e));
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { dist: Math.hypot(a[0] - b[0], a[1] - b[1]) };
    }
  });
  stage.addEventListener('pointermove', (e) => {
    const p = local(e);
    if (pointers.has(e.pointerId)) {
      const prev = pointers.get(e.pointerId);
      pointers.set(e.pointerId, p);
      if (pointers.size === 1) viewer.panBy(p[0] - prev[0], p[1] - prev[1]);
      else if (pointers.size === 2 && pinch) {
        const [a, b] = [...pointers.values()];
        const dist = Math.hypot(a[0] - b[0], a[1] - b[1]);
        if (pinch.dist > 0) viewer.zoomAt(dist / pinch.dist, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
        pinch.dist = dist;
      }
    }
    viewer.emit('pointer', { screen: p, image: viewer.screenToImage(p[0], p[1]) });
  });
  const up = (e) => { pointers.delete(e.pointerId); if (pointers.size < 2) pinch = null; };
  stage.addEventListener('pointerup', up);
  stage.addEventListener('pointercancel', up);
  stage.addEventListener('pointerleave', () => viewer.emit('pointer', null));

  stage.addEventListener('wheel', (e) => {
    e.preventDefault();
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    if (e.shiftKey || e.altKey) {
      // Wheel with a modifier steps through Z (T with both), one slice per notch.
      const step = Math.sign(delta);
      if (e.shiftKey && e.altKey) viewer.setT(viewer.state.t + step);
      else viewer.setZ(viewer.state.z + step);
      return;
    }
    const [sx, sy] = local(e);
    viewer.zoomAt(Math.pow(2, -delta / 300), sx, sy);
  }, { passive: false });

  stage.addEventListener('dblclick', (e) => {
    const [sx, sy] = local(e);
    viewer.zoomAt(e.shiftKey ? 0.5 : 2, sx, sy);
  });

  stage.addEventListener('keydown', (e) => {
    if (!viewer.state) return;
    const s = viewer.state;
    const pan = 64;
    const actions = {
      ArrowLeft: () => viewer.panBy(pan, 0),
      ArrowRight: () => viewer.panBy(-pan, 0),
      ArrowUp: () => viewer.panBy(0, pan),
      ArrowDown: () => viewer.panBy(0, -pan),
      '+': () => viewer.zoomAt(1.5, viewer.cssWidth / 2, viewer.cssHeight / 2),
      '=': () => viewer.zoomAt(1.5, viewer.cssWidth / 2, viewer.cssHeight / 2),
      '-': () => viewer.zoomAt(1 / 1.5, viewer.cssWidth / 2, viewer.cssHeight / 2),
      '0': () => viewer.fit(),
      f: () => viewer.fit(),
      PageUp: () => viewer.setZ(s.z + 1),
      PageDown: () => viewer.setZ(s.z - 1),
      '.': () => viewer.setZ(s.z + 1),
      ',': () => viewer.setZ(s.z - 1),
      ']': () => viewer.setT(s.t + 1),
      '[': () => viewer.setT(s.t - 1),
    };
    const action = actions[e.key];
    if (action) { e.preventDefault(); action(); }
  });
}

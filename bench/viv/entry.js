// Viv (the library behind Avivator and Vitessce) opening one OME-Zarr image: bench/viewer's peer column.
// bench/viv/peer.py has the bench server serve this bundle and a page at <server>/viewer/__viv/ (same origin as the store) with
// ?url=&width=&height=&channels=&lo=&hi=; timings are read from window.viv.
import { Deck, OrthographicView } from '@deck.gl/core';
import { MultiscaleImageLayer } from '@vivjs/layers';
import { loadOmeZarr } from '@vivjs/loaders';

const COLORS = [[0, 0, 255], [0, 255, 0], [255, 0, 0], [255, 0, 255], [0, 255, 255], [255, 255, 0]];
const viv = { loads: 0, loadedAt: -1, frames: 0, frameAt: -1, complete: -1, error: null };
window.viv = viv;
let deck = null;
let loader = null;
let props = null;

function layer() {
  return new MultiscaleImageLayer({
    id: 'viv', loader, ...props,
    onViewportLoad: () => { viv.loads += 1; viv.loadedAt = performance.now(); },
  });
}

async function open(params) {
  const url = params.get('url');
  const width = Number(params.get('width'));
  const height = Number(params.get('height'));
  const channels = params.get('channels').split(',').map(Number);
  const limits = [Number(params.get('lo')), Number(params.get('hi'))];
  const { data } = await loadOmeZarr(url, { type: 'multiscales' });
  loader = data;
  const shape = data[0].shape;
  const w = shape[shape.length - 1];
  const h = shape[shape.length - 2];
  props = {
    selections: channels.map((c) => ({ t: 0, c, z: Number(params.get('z') || 0) })),
    colors: channels.map((_, i) => COLORS[i % COLORS.length]),
    contrastLimits: channels.map(() => limits),
    channelsVisible: channels.map(() => true),
  };
  deck = new Deck({
    parent: document.getElementById('viv'),
    width, height,
    views: [new OrthographicView({ id: 'ortho', controller: false })],
    initialViewState: { target: [w / 2, h / 2, 0], zoom: Math.log2(Math.min(width / w, height / h)) },
    layers: [layer()],
    onAfterRender: () => {
      viv.frames += 1;
      viv.frameAt = performance.now();
      if (viv.complete < 0 && viv.loads > 0) viv.complete = viv.frameAt;
    },
  });
}

/** New layer props (a contrast change or a Z step), as an app built on Viv would set them. */
viv.set = ({ limits, z }) => {
  if (limits) props = { ...props, contrastLimits: props.contrastLimits.map(() => limits) };
  if (z !== undefined) props = { ...props, selections: props.selections.map((s) => ({ ...s, z })) };
  deck.setProps({ layers: [layer()] });
};

open(new URLSearchParams(location.search)).catch((e) => { viv.error = String(e && e.stack || e); });

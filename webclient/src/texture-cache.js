// GPU texture cache: one R8UI/R16UI texture array per tile of a plane (level, t, z, y, x), each channel
// stored in a layer of its own, so a tile's channels (level, t, c, z, y, x) are composited from one
// sampler. A texture has as many layers as the channels stored in it (rounded up, see layersFor), not
// one per channel of the image: a 64-channel image showing DAPI and markers 12, 25 and 37 takes 4 layers
// per tile, not 64. A new texture has room for the visible channels (setVisible) and those it holds,
// so loading a view grows nothing. Channel c goes to layer c when that layer is free, so the usual view
// (channels 0..n-1) reads constant layers (renderer.js), in whatever order its chunks arrive; the others
// fill free layers from the top, leaving layer c to visible channel c. `slot[c]` is the layer of
// channel c (-1: none), `owner[l]` the channel in layer l (-1: free, zeros).
// Entries survive Z and T steps and view changes; a byte budget is kept by evicting the least
// recently used entries that the current view does not need.

export const NONE = 0;
export const LOADING = 1;
export const READY = 2;
export const FAILED = 3;

export function tileKey(level, t, z, ty, tx) {
  return `${level}/${t}/${z}/${ty}/${tx}`;
}

export class TextureCache {
  constructor(gl, { channels, dtype, budgetBytes, stats }) {
    this.gl = gl;
    this.channels = channels;
    this.dtype = dtype;
    this.budgetBytes = budgetBytes;
    this.stats = stats;
    this.entries = new Map();
    this.bytes = 0;
    this.clock = 0;
    this.zeros = null; // a GPU buffer of zeros, as large as the largest tile texture (see _zeroFill)
    this.zeroBytes = 0;
    this.copyFbo = null; // reads a layer of a tile texture that grows (see _ensureLayers)
    this.visible = new Uint8Array(channels); // 1 for each visible channel (setVisible)
  }

  /**
   * The channels the view shows (indices): new textures make room for them, and their layers c stay
   * free for them.
   * @param {number[]} channels
   */
  setVisible(channels) {
    this.visible.fill(0);
    for (const c of channels) this.visible[c] = 1;
  }

  /** The entry of one tile, created empty (no texture yet) when missing. */
  entry(level, t, z, ty, tx, width, height) {
    const key = tileKey(level, t, z, ty, tx);
    let e = this.entries.get(key);
    if (!e) {
      e = { key, level, t, z, ty, tx, width, height, texture: null, layers: 0, bytes: 0,
        state: new Uint8Array(this.channels), slot: new Int16Array(this.channels).fill(-1), owner: [], used: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  get(key) { return this.entries.get(key); }

  /**
   * Layers of a tile texture holding `count` channels: rounded up to a power of two, at least 4, at
   * most the image's channels. Rounding up bounds how often a tile grows (and copies its layers) as
   * channels are shown one after another.
   * @param {number} count
   */
  layersFor(count) {
    let n = 4;
    while (n < count) n *= 2;
    return Math.min(n, this.channels);
  }

  /** Bytes one tile of `level` takes on the GPU with `channels` (indices) in it (layersFor). */
  tileBytes(level, source, channels) {
    if (!channels.length) return 0;
    const lv = source.levels[level];
    return lv.chunk.x * lv.chunk.y * this.layersFor(channels.length) * this.dtype.size;
  }

  touch(e) { e.used = ++this.clock; }

  /**
   * [t, z] of every plane with at least one tile on the GPU: where the planner looks for stand-ins.
   * @returns {Array<[number, number]>}
   */
  planes() {
    const seen = new Map();
    for (const e of this.entries.values()) if (e.texture) seen.set(`${e.t}/${e.z}`, [e.t, e.z]);
    return [...seen.values()];
  }

  /** True when every channel in `channels` (indices) is loaded or settled as failed. */
  isReady(e, channels) {
    if (!e) return false;
    for (const c of channels) if (e.state[c] < READY) return false;
    return true;
  }

  /** A new texture of `layers` layers (zeros) for entry `e`, which keeps the one it had, if any. */
  _allocate(e, layers) {
    const gl = this.gl;
    const tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D_ARRAY, tex);
    const fmt = this.dtype.size === 2 ? gl.R16UI : gl.R8UI;
    gl.texStorage3D(gl.TEXTURE_2D_ARRAY, 1, fmt, e.width, e.height, layers);
    this._zeroFill(e, layers);
    // Integer textures cannot be filtered: nearest is required, and is what raw data wants anyway.
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return tex;
  }

  /** Give entry `e` a texture of at least `layers` layers, its stored channels copied over on the GPU. */
  _ensureLayers(e, layers) {
    if (e.texture && e.layers >= layers) return;
    const gl = this.gl;
    const tex = this._allocate(e, layers);
    if (e.texture) {
      if (!this.copyFbo) this.copyFbo = gl.createFramebuffer();
      gl.bindFramebuffer(gl.READ_FRAMEBUFFER, this.copyFbo);
      for (let l = 0; l < e.layers; l++) {
        const c = e.owner[l];
        if (c < 0 || e.state[c] !== READY) continue; // zeros: free, or a channel that failed to load
        gl.framebufferTextureLayer(gl.READ_FRAMEBUFFER, gl.COLOR_ATTACHMENT0, e.texture, 0, l);
        gl.copyTexSubImage3D(gl.TEXTURE_2D_ARRAY, 0, 0, 0, l, 0, 0, e.width, e.height);
      }
      gl.bindFramebuffer(gl.READ_FRAMEBUFFER, null);
      gl.deleteTexture(e.texture);
      this.bytes -= e.bytes;
      this.stats.tileGrowths++;
    }
    e.texture = tex;
    e.layers = layers;
    while (e.owner.length < layers) e.owner.push(-1);
    e.bytes = e.width * e.height * layers * this.dtype.size;
    this.bytes += e.bytes;
  }

  /**
   * Fill a new tile texture with zeros in one copy from a zero buffer on the GPU. WebGL shows zeros in
   * layers never uploaded; left to itself, the browser (ANGLE) clears the whole texture at its first
   * partial upload, which on software GL (SwiftShader) took 2.5-3x as long as this copy (20 new tiles
   * of 4 layers, 1, 4 or all layers uploaded: ~105-120 ms to the GPU's end against ~45; of 64 layers:
   * 1.6 s against 0.5). Per-layer copies from the buffer would take the slow path again.
   */
  _zeroFill(e, layers) {
    const gl = this.gl;
    const bytes = e.width * e.height * layers * this.dtype.size;
    if (bytes > this.zeroBytes) {
      if (this.zeros) gl.deleteBuffer(this.zeros);
      this.zeros = gl.createBuffer();
      gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, this.zeros);
      gl.bufferData(gl.PIXEL_UNPACK_BUFFER, bytes, gl.STATIC_DRAW); // WebGL zero-initialises buffers
      this.zeroBytes = bytes;
    } else {
      gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, this.zeros);
    }
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    const type = this.dtype.size === 2 ? gl.UNSIGNED_SHORT : gl.UNSIGNED_BYTE;
    gl.texSubImage3D(gl.TEXTURE_2D_ARRAY, 0, 0, 0, 0, e.width, e.height, layers, gl.RED_INTEGER, type, 0);
    gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, null);
  }

  /**
   * The layer of channel c in tile e; a channel without one gets layer c if free, else the highest free
   * layer (the texture grows when none is free). Channels that failed to load get one too (zeros), so
   * that every channel of a drawn tile has its layer.
   */
  _layerFor(e, c) {
    if (e.slot[c] >= 0) return e.slot[c];
    // room for what it holds, c, and the visible channels still to come
    let room = this.visible[c] ? 0 : 1;
    for (let v = 0; v < this.channels; v++) if (e.slot[v] >= 0 || this.visible[v]) room++;
    this._ensureLayers(e, this.layersFor(room));
    let layer = c < e.layers && e.owner[c] < 0 ? c : -1;
    for (let l = e.layers - 1; layer < 0 && l >= 0; l--) {
      if (e.owner[l] < 0 && !(this.visible[l] && e.slot[l] < 0)) layer = l;
    }
    if (layer < 0) layer = e.owner.lastIndexOf(-1); // every free layer is some visible channel's own
    e.owner[layer] = c;
    e.slot[c] = layer;
    for (let f = 0; f < this.channels; f++) if (e.state[f] === FAILED && e.slot[f] < 0) this._layerFor(e, f);
    return layer;
  }

  /** Channel c of tile e failed to load: drawn as zeros. */
  fail(e, c) {
    e.state[c] = FAILED;
    if (e.texture) this._layerFor(e, c);
  }

  /** Store channel c of a tile. `pixels` null means the chunk is absent and holds `fill` everywhere. */
  store(e, c, pixels, fill) {
    const gl = this.gl;
    const layer = this._layerFor(e, c);
    if (pixels === null && fill === 0) {
      // the texture starts as zeros (_zeroFill), so an absent chunk needs no upload
      e.state[c] = READY;
      return;
    }
    if (pixels === null) {
      pixels = this.dtype.size === 2 ? new Uint16Array(e.width * e.height) : new Uint8Array(e.width * e.height);
      pixels.fill(fill);
    }
    gl.bindTexture(gl.TEXTURE_2D_ARRAY, e.texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    const type = this.dtype.size === 2 ? gl.UNSIGNED_SHORT : gl.UNSIGNED_BYTE;
    gl.texSubImage3D(gl.TEXTURE_2D_ARRAY, 0, 0, 0, layer, e.width, e.height, 1, gl.RED_INTEGER, type, pixels);
    this.stats.uploads++;
    this.stats.uploadBytes += pixels.byteLength;
    e.state[c] = READY;
  }

  /** Evict least recently used entries outside `keep` (a Set of keys) until within budget. */
  trim(keep) {
    if (this.bytes <= this.budgetBytes) return;
    const candidates = [...this.entries.values()].filter((e) => !keep.has(e.key) && !e.state.includes(LOADING))
      .sort((a, b) => a.used - b.used);
    for (const e of candidates) {
      if (this.bytes <= this.budgetBytes) break;
      this.remove(e);
      this.stats.evictions++;
    }
  }

  remove(e) {
    if (e.texture) { this.gl.deleteTexture(e.texture); this.bytes -= e.bytes; }
    this.entries.delete(e.key);
  }

  destroy() {
    for (const e of this.entries.values()) if (e.texture) this.gl.deleteTexture(e.texture);
    this.entries.clear();
    this.bytes = 0;
    if (this.zeros) this.gl.deleteBuffer(this.zeros);
    if (this.copyFbo) this.gl.deleteFramebuffer(this.copyFbo);
    this.zeros = null;
    this.zeroBytes = 0;
    this.copyFbo = null;
  }
}

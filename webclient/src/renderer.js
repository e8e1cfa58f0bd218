// @ts-check
// WebGL2 renderer: one draw per tile, every visible channel composited in that draw.
import { buildProgramSources, channelCapacity, describeCompileError, userCompileError, COLORMAPS, BLENDS } from './shader-builder.js';
import { sampleShift, tilePlacement } from './view.js';

/** @typedef {import('./types.js').ImageSource} ImageSource */
/** @typedef {import('./types.js').View} View */
/** @typedef {import('./types.js').ChannelSettings} ChannelSettings */

/** Thrown when the browser has no WebGL2. */
export class WebGLUnavailable extends Error {}

/** @typedef {import('./shader-builder.js').ProgramParts} ProgramParts */
/** @typedef {import('./shader-builder.js').SourceRange} SourceRange */

/**
 * @param {WebGL2RenderingContext} gl
 * @param {number} type
 * @param {string} source
 * @param {(log: string) => Error} [fail] the error for a compile log (default: the built-in's)
 */
function compile(gl, type, source, fail) {
  const shader = /** @type {WebGLShader} */ (gl.createShader(type));
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    const log = gl.getShaderInfoLog(shader) || '';
    gl.deleteShader(shader);
    throw fail ? fail(log) : new Error('Shader compile error:\n' + describeCompileError(source, log));
  }
  return shader;
}

const UNIFORMS = /** @type {const} */ (['u_rect', 'u_texels', 'u_tile', 'u_size', 'u_count',
  'u_window', 'u_color', 'u_blend']);

/**
 * The usual view has a program of its own for channels 0..N-1 visible, N up to this: its channel loop
 * unrolled with constant layers (about 20 % less per frame on software GL than a layer from a uniform).
 */
export const PREFIX_COUNTS = 6;
/** Most visible channels a mapped program is built for (more take the plain or general program). */
export const MAPPED_MAX = 64;
/** Mapped programs kept (each a distinct mix of colormaps, gamma, invert and blend). */
const MAPPED_KEPT = 8;

/** @typedef {{program: WebGLProgram, loc: Record<string, WebGLUniformLocation | null>}} Linked */
/** @typedef {{program: WebGLProgram, fragment: WebGLShader, src: ReturnType<typeof buildProgramSources>}} Started */

export class Renderer {
  /** A mapped program to start once this frame is drawn (#startMapped). @type {(() => void) | null} */
  #mappedToStart = null;

  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    // preserveDrawingBuffer so PNG export and tests can read the last frame at any time.
    const gl = canvas.getContext('webgl2', { premultipliedAlpha: false, preserveDrawingBuffer: true, antialias: false, alpha: false });
    if (!gl) throw new WebGLUnavailable('This viewer needs WebGL2, which this browser does not provide (or has disabled).');
    this.gl = gl;
    this.canvas = canvas;
    /** Visible channels one frame composites; more are left out (the viewer says so). */
    this.maxChannels = channelCapacity(gl.getParameter(gl.MAX_FRAGMENT_UNIFORM_VECTORS),
      gl.getParameter(gl.MAX_ARRAY_TEXTURE_LAYERS));
    /** Colormap and blend names by id: the built-in ones, then those defined at run time. */
    this.colormaps = [...COLORMAPS];
    this.blends = [...BLENDS];
    /** Values of the compositing shader's #uicontrol uniforms, set before every draw. @type {Record<string, number | boolean | string>} */
    this.controls = {};
    /** @type {Array<{name: string, type: string}>} */
    this.controlTypes = [];
    /** @type {Array<WebGLUniformLocation | null>} */
    this.controlLoc = [];
    this.vertexShader = compile(gl, gl.VERTEX_SHADER, buildProgramSources(this.maxChannels).vertex);
    const built = this.#link({}, undefined);
    this.program = built.program;
    /** @type {Record<string, WebGLUniformLocation | null>} */
    this.loc = built.loc;
    // The built-in's common case (every visible channel `color` with gamma 1, blend `additive`) without
    // the per-pixel colormap, blend and gamma code: 2-5x cheaper per frame on software GL. Built once,
    // used whenever no compositing shader is set and the settings allow, so switching never compiles.
    this.plain = this.#link({ plain: true }, undefined);
    /** The program of the usual view of channels 0..N-1, by N (see buildLaterPrograms). @type {Array<Started | Linked | null>} */
    this.prefix = [];
    /** The plain program with gamma (see buildLaterPrograms). @type {Started | Linked | null} */
    this.gammaPlain = null;
    /** Whether `program` holds a compositing shader (then `plain` is never used). */
    this.userComposite = false;
    /** The user colormaps and blends `program` was built with (mapped programs are built with them too). @type {ProgramParts} */
    this.userParts = {};
    /** Mapped programs (see #mappedFor) by their view's key, least recently used first. @type {Map<string, Started | Linked | null>} */
    this.mapped = new Map();
    this.parallelCompile = gl.getExtension('KHR_parallel_shader_compile');
    /** The program of the last frame ('plain', 'mapped' or 'general'), for tests and benchmarks. */
    this.lastProgram = '';
    /** Whether the last frame's program was one for channels 0..N-1 (see PREFIX_COUNTS). */
    this.lastPrefix = false;
    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    this.window = new Float32Array(4 * this.maxChannels);
    this.color = new Float32Array(4 * this.maxChannels);
    this.readFbo = gl.createFramebuffer();
  }

  /**
   * Compile and link the program for `parts` and `maxChannels` without waiting for the result.
   * @param {ProgramParts} parts
   * @param {number} maxChannels
   * @returns {Started}
   */
  #start(parts, maxChannels) {
    const gl = this.gl;
    const src = buildProgramSources(maxChannels, parts);
    const fragment = /** @type {WebGLShader} */ (gl.createShader(gl.FRAGMENT_SHADER));
    gl.shaderSource(fragment, src.fragment);
    gl.compileShader(fragment);
    const program = /** @type {WebGLProgram} */ (gl.createProgram());
    gl.attachShader(program, this.vertexShader);
    gl.attachShader(program, fragment);
    gl.bindAttribLocation(program, 0, 'a_corner');
    gl.linkProgram(program);
    return { program, fragment, src };
  }

  /**
   * Wait for a started program; a failing user source throws a ShaderError in the line numbers of
   * `range` (the source being changed).
   * @param {Started} started
   * @param {SourceRange | undefined | ((ranges: SourceRange[]) => SourceRange | undefined)} range
   * @returns {Linked}
   */
  #finish({ program, fragment, src }, range) {
    const gl = this.gl;
    const target = typeof range === 'function' ? range(src.ranges) : range;
    const user = src.ranges.length > 0;
    if (!gl.getShaderParameter(fragment, gl.COMPILE_STATUS)) {
      const log = gl.getShaderInfoLog(fragment) || '';
      gl.deleteShader(fragment);
      gl.deleteProgram(program);
      throw user ? userCompileError(log, src.ranges, target) : new Error('Shader compile error:\n' + describeCompileError(src.fragment, log));
    }
    gl.deleteShader(fragment);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
      const log = gl.getProgramInfoLog(program) || '';
      gl.deleteProgram(program);
      if (user) throw userCompileError(log, src.ranges, target);
      throw new Error('Shader link error: ' + log);
    }
    /** @type {Record<string, WebGLUniformLocation | null>} */
    const loc = {};
    for (const name of UNIFORMS) loc[name] = gl.getUniformLocation(program, name);
    return { program, loc };
  }

  /**
   * Compile and link the program for `parts` (see #finish for `range`).
   * @param {ProgramParts} parts
   * @param {SourceRange | undefined | ((ranges: SourceRange[]) => SourceRange | undefined)} range
   */
  #link(parts, range) {
    return this.#finish(this.#start(parts, this.maxChannels), range);
  }

  /**
   * Compile and link, once, the programs for the usual view of channels 0..N-1 (N = 1..PREFIX_COUNTS,
   * each the mapped program of N `color` channels: written out, with no loop, it draws 25-30 % faster
   * on SwiftShader than the plain loop unrolled for N) and the plain program with gamma. The viewer
   * calls this when its first view is complete, so these compiles (a few ms each in the GPU process)
   * do not compete with the first view; until then the plain and general programs draw those views.
   * Each is checked (a query that waits for the GPU process) by finishLaterPrograms, or else when a
   * frame first uses it. Returns true the first time.
   */
  buildLaterPrograms() {
    if (this.prefix.length) return false;
    this.prefix.push(null);
    const color = { colormap: 'color', gamma: false, invert: false };
    for (let n = 1; n <= Math.min(PREFIX_COUNTS, this.maxChannels); n++) {
      this.prefix.push(this.#start({ mapped: Array(n).fill(color), blend: 'additive', prefix: true }, n));
    }
    this.gammaPlain = this.#start({ plain: true, gamma: true }, this.maxChannels);
    return true;
  }

  /**
   * Wait now for the links of the programs buildLaterPrograms started. The viewer calls this when the
   * page is idle: otherwise the first settings change after the first view waited for them (the
   * GPU process links them in order), 100-150 ms on a software GL before its frame.
   */
  finishLaterPrograms() {
    for (let n = 1; n < this.prefix.length; n++) this.prefix[n] = this.#ready(this.prefix[n]);
    this.gammaPlain = this.#ready(this.gammaPlain);
  }

  /**
   * `e` ready to draw (waiting for its link once), or null when missing or it failed to build: the
   * plain or general program draws the same picture, a GPU that cannot build this one loses speed only.
   * @param {Started | Linked | null | undefined} e
   * @returns {Linked | null}
   */
  #ready(e) {
    if (!e || 'loc' in e) return e || null;
    try {
      return this.#finish(e, undefined);
    } catch (err) {
      console.warn(err);
      return null;
    }
  }

  /**
   * Replace the program by one built with the user definitions `parts` (colormaps and blends keep
   * their ids: built-in ones first, then user ones in definition order). Throws a ShaderError (in the
   * line numbers of the source of kind `kind` named `name`) and keeps the current program when it
   * does not compile. Returns the compile and link time in ms.
   * @param {ProgramParts} parts
   * @param {{kind: string, name: string}} changed which user source this change is about
   * @param {Array<{name: string, type: string}>} controlTypes the shader's #uicontrol uniforms
   */
  rebuild(parts, changed, controlTypes) {
    const t0 = performance.now();
    const built = this.#link(parts, (ranges) => ranges.find((r) => r.kind === changed.kind && r.name === changed.name));
    const gl = this.gl;
    gl.deleteProgram(this.program);
    this.program = built.program;
    this.loc = built.loc;
    this.colormaps = [...COLORMAPS, ...(parts.colormaps || []).map((c) => c[0])];
    this.blends = [...BLENDS, ...(parts.blends || []).map((b) => b[0])];
    this.userParts = { colormaps: parts.colormaps, blends: parts.blends };
    for (const m of this.mapped.values()) this.#drop(m);
    this.mapped.clear();
    this.controlTypes = controlTypes;
    this.controlLoc = controlTypes.map((c) => gl.getUniformLocation(built.program, c.name));
    this.userComposite = Boolean(parts.composite);
    return performance.now() - t0;
  }

  /**
   * Draw `tiles` (coarse first, each with its level, position, texture and the layer of each channel
   * in it, `slot`) for `view` with the channel settings `channels` (all of them, in channel order) and
   * `blend` (name).
   * @param {Array<{level: number, ty: number, tx: number, texture: WebGLTexture, slot: Int16Array}>} tiles
   * @param {ImageSource} source
   * @param {View} view
   * @param {ChannelSettings[]} channels
   * @param {string} blend
   * @param {number} dpr
   * @param {boolean} [builtin] draw with the built-in plain program whatever the settings (every channel
   *   `color`, gamma 1): the reference a user shader's frame is timed against, drawn over at once
   * @returns {number} tiles drawn
   */
  draw(tiles, source, view, channels, blend, dpr, builtin = false) {
    const gl = this.gl;
    const W = this.canvas.width, H = this.canvas.height;
    gl.viewport(0, 0, W, H);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    // The usual view (every visible channel `color`, blend `additive`) of channels 0..n-1, n small and
    // gamma 1, has its program built after the first view (prefix). Any other view without a compositing
    // shader gets its own (mapped) program, built beside its first frame; until then the plain program
    // (with gamma: its variant, once built) or, for other colormaps and blends, the general one draws
    // the same picture.
    let visible = 0, hidden = false, prefix = true, gamma = false, plain = builtin || (!this.userComposite && blend === 'additive');
    for (const ch of channels) {
      if (!ch.visible) { hidden = true; continue; }
      visible++;
      if (hidden) prefix = false;
      if (builtin) continue;
      if (ch.colormap !== 'color') plain = false;
      if ((ch.gamma > 0 ? ch.gamma : 1) !== 1) gamma = true;
    }
    const n = Math.min(visible, this.maxChannels);
    // Programs for channels 0..n-1 read constant layers: only where every tile holds channel c in layer c
    // (texture-cache.js); else the layers come from u_window[i].w, set per tile.
    if (prefix) {
      for (const e of tiles) for (let c = 0; c < n; c++) if (e.slot[c] !== c) prefix = false;
    }
    // Programs beyond the two built at start wait until the first view is complete (buildLaterPrograms):
    // a compile would compete with it.
    const later = this.prefix.length > 0;
    const prefixed = plain && !gamma && prefix && n <= Math.min(PREFIX_COUNTS, this.maxChannels);
    /** @type {Linked | null} */
    let chosen = null;
    if (prefixed && n < this.prefix.length) chosen = this.prefix[n] = this.#ready(this.prefix[n]);
    const byPrefix = Boolean(chosen);
    const mapped = later && !prefixed && !builtin && !this.userComposite && n > 0 && n <= MAPPED_MAX
      ? this.#mappedFor(channels, blend, prefix, n) : null;
    if (!chosen && !mapped && plain && gamma) {
      chosen = this.gammaPlain = this.#ready(this.gammaPlain);
      if (!chosen) plain = false; // not built yet: the general program has gamma too
    }
    const { program, loc } = mapped || chosen || (plain ? this.plain : { program: this.program, loc: this.loc });
    this.lastProgram = mapped ? 'mapped' : plain ? 'plain' : 'general';
    this.lastPrefix = byPrefix;
    gl.useProgram(program);
    gl.bindVertexArray(this.vao);
    /** @type {number[]} */
    const drawn = []; // the channel of each u_window / u_color entry
    for (let c = 0, i = 0; c < channels.length && i < n; c++) {
      const ch = channels[c];
      if (!ch.visible) continue;
      drawn.push(c);
      let [lo, hi] = ch.window;
      // a zero-width or reversed window is a step at lo; the width must survive float32 at 65535,
      // or f is infinite and (v - lo) * f at v = lo is left to each GPU's NaN rules
      if (!(hi > lo)) hi = lo + Math.max(1e-3, Math.abs(lo) * 1e-6);
      // the shader computes (v - lo) * f, in float32: f from the float32 bounds, so lo gives 0 and hi 1
      const f = 1 / (Math.fround(hi) - Math.fround(lo));
      // invert folded into the window where gamma is 1: 1 - clamp((v - lo) * f) = clamp((v - hi) * -f)
      // (a mapped program inverts the channels with gamma itself, the plain one with gamma all of them)
      const flip = ch.invert && (mapped ? !(ch.gamma > 0 && ch.gamma !== 1) : plain && !gamma);
      const rgb = parseInt(ch.color.slice(1), 16);
      const mode = Math.max(0, this.colormaps.indexOf(ch.colormap)) * 2 + (ch.invert ? 1 : 0);
      this.window.set([flip ? hi : lo, flip ? -f : f, ch.gamma > 0 ? ch.gamma : 1, c], 4 * i);
      this.color.set([(rgb >> 16 & 255) / 255, (rgb >> 8 & 255) / 255, (rgb & 255) / 255, mode], 4 * i);
      i++;
    }
    gl.uniform4fv(loc.u_window, this.window, 0, 4 * Math.max(1, n));
    gl.uniform4fv(loc.u_color, this.color, 0, 4 * Math.max(1, n));
    gl.uniform1i(loc.u_count, n);
    gl.uniform1i(loc.u_blend, Math.max(0, this.blends.indexOf(blend)));
    this.controlTypes.forEach((c, i) => this.#setControl(c, this.controlLoc[i]));
    gl.uniform1i(loc.u_tile, 0);
    gl.activeTexture(gl.TEXTURE0);
    let draws = 0;
    /** @type {Map<number, [number, number]>} */
    const shifts = new Map();
    for (const e of tiles) {
      const lv = source.levels[e.level];
      let shift = shifts.get(e.level);
      if (!shift) shifts.set(e.level, shift = sampleShift(view, dpr, W, H, lv));
      const at = tilePlacement(view, dpr, W, H, lv, e.ty, e.tx, shift);
      if (!at) continue;
      const [x0, y0, x1, y1] = at.quad;
      gl.uniform4f(loc.u_rect, x0 / W * 2 - 1, 1 - y0 / H * 2, x1 / W * 2 - 1, 1 - y1 / H * 2);
      gl.uniform4f(loc.u_texels, at.texels[0], at.texels[1], at.texels[2], at.texels[3]);
      gl.uniform2i(loc.u_size, at.size[0], at.size[1]);
      if (!prefix && this.#placeLayers(drawn, e.slot)) gl.uniform4fv(loc.u_window, this.window, 0, 4 * Math.max(1, n));
      gl.bindTexture(gl.TEXTURE_2D_ARRAY, e.texture);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      draws++;
    }
    if (this.#mappedToStart) { this.#mappedToStart(); this.#mappedToStart = null; }
    return draws;
  }

  /**
   * Put each drawn channel's layer in `slot` (a tile's) into u_window[i].w; true when any changed.
   * @param {number[]} drawn
   * @param {Int16Array} slot
   */
  #placeLayers(drawn, slot) {
    let changed = false;
    for (let i = 0; i < drawn.length; i++) {
      const layer = slot[drawn[i]];
      if (this.window[4 * i + 3] !== layer) { this.window[4 * i + 3] = layer; changed = true; }
    }
    return changed;
  }

  /**
   * The mapped program of this view (its visible channels' colormaps, gamma and invert, and the blend),
   * or null while it compiles: the first frame of a new mix starts it, drawn meanwhile by the plain or
   * general program (the same picture), and a later frame takes it once built. Programs that fail to
   * build stay null (the plain or general program draws those views). The MAPPED_KEPT most recently
   * used are kept.
   * @param {ChannelSettings[]} channels
   * @param {string} blend
   * @param {boolean} prefix whether the visible channels are 0..n-1
   * @param {number} n
   * @returns {Linked | null}
   */
  #mappedFor(channels, blend, prefix, n) {
    /** @type {import('./shader-builder.js').MappedChannel[]} */
    const mix = [];
    for (const ch of channels) {
      if (!ch.visible || mix.length === n) continue;
      const gamma = ch.gamma > 0 && ch.gamma !== 1;
      mix.push({ colormap: this.colormaps[Math.max(0, this.colormaps.indexOf(ch.colormap))], gamma, invert: gamma && ch.invert });
    }
    const blendName = this.blends[Math.max(0, this.blends.indexOf(blend))];
    const key = JSON.stringify([prefix, blendName, mix]);
    let e = this.mapped.get(key);
    if (e === undefined) {
      this.#mappedToStart = () => this.#startMapped(key, { ...this.userParts, mapped: mix, blend: blendName, prefix }, n);
      return null;
    }
    this.mapped.delete(key);
    this.mapped.set(key, e);
    if (e && !('loc' in e)) {
      if (this.parallelCompile && !this.gl.getProgramParameter(e.program, this.parallelCompile.COMPLETION_STATUS_KHR)) return null;
      e = this.#ready(e);
      this.mapped.set(key, e);
    }
    return e;
  }

  /**
   * Start building a mapped program (see #mappedFor), after the frame's draw calls: the GPU process
   * runs commands in order, and the frame must not wait for this compile. Without
   * KHR_parallel_shader_compile (SwiftShader has none), the mix's next frame waits for its link.
   * @param {string} key
   * @param {ProgramParts} parts
   * @param {number} n
   */
  #startMapped(key, parts, n) {
    this.mapped.set(key, this.#start(parts, n));
    if (this.mapped.size <= MAPPED_KEPT) return;
    const oldKey = /** @type {string} */ (this.mapped.keys().next().value);
    this.#drop(this.mapped.get(oldKey));
    this.mapped.delete(oldKey);
  }

  /**
   * Delete a program, and its fragment shader when it was never waited for.
   * @param {Started | Linked | null | undefined} e
   */
  #drop(e) {
    if (!e) return;
    if ('fragment' in e) this.gl.deleteShader(e.fragment);
    this.gl.deleteProgram(e.program);
  }

  /**
   * @param {{name: string, type: string}} c
   * @param {WebGLUniformLocation | null | undefined} loc
   */
  #setControl(c, loc) {
    if (!loc) return; // declared but unused: the compiler dropped it
    const gl = this.gl, v = this.controls[c.name];
    if (c.type === 'float') gl.uniform1f(loc, Number(v));
    else if (c.type === 'bool') gl.uniform1i(loc, v ? 1 : 0);
    else {
      const rgb = parseInt(String(v).slice(1), 16);
      gl.uniform3f(loc, (rgb >> 16 & 255) / 255, (rgb >> 8 & 255) / 255, (rgb & 255) / 255);
    }
  }

  /**
   * Raw value of texel (x, y) of layer `layer` of a tile texture (for the readout).
   * @param {WebGLTexture} texture
   * @param {number} layer
   * @param {number} x
   * @param {number} y
   */
  readTexel(texture, layer, x, y) {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.readFbo);
    gl.framebufferTextureLayer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, texture, 0, layer);
    const out = new Uint32Array(4);
    gl.readPixels(x, y, 1, 1, gl.RGBA_INTEGER, gl.UNSIGNED_INT, out);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    return out[0];
  }
}

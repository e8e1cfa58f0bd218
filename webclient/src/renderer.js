// @ts-check
// WebGL2 renderer: one draw per tile, every visible channel composited in that draw.
import { buildProgramSources, channelCapacity, describeCompileError, COLORMAPS, BLENDS } from './shader-builder.js';
import { tilePlacement } from './view.js';

/** @typedef {import('./types.js').ImageSource} ImageSource */
/** @typedef {import('./types.js').View} View */
/** @typedef {import('./types.js').ChannelSettings} ChannelSettings */

/** Thrown when the browser has no WebGL2. */
export class WebGLUnavailable extends Error {}

/**
 * @param {WebGL2RenderingContext} gl
 * @param {number} type
 * @param {string} source
 */
function compile(gl, type, source) {
  const shader = /** @type {WebGLShader} */ (gl.createShader(type));
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error('Shader compile error:\n' + describeCompileError(source, gl.getShaderInfoLog(shader) || ''));
  }
  return shader;
}

const UNIFORMS = /** @type {const} */ (['u_rect', 'u_tile', 'u_origin', 'u_scale', 'u_canvasHeight', 'u_size', 'u_count',
  'u_window', 'u_color', 'u_blend']);

export class Renderer {
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
    const src = buildProgramSources(this.maxChannels);
    const program = /** @type {WebGLProgram} */ (gl.createProgram());
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, src.vertex));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, src.fragment));
    gl.bindAttribLocation(program, 0, 'a_corner');
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error('Shader link error: ' + gl.getProgramInfoLog(program));
    this.program = program;
    /** @type {Record<string, WebGLUniformLocation | null>} */
    this.loc = {};
    for (const name of UNIFORMS) this.loc[name] = gl.getUniformLocation(program, name);
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
   * Draw `tiles` (coarse first, each with its level, position and texture) for `view` with the
   * channel settings `channels` (all of them, in channel order) and `blend` (name).
   * @param {Array<{level: number, ty: number, tx: number, texture: WebGLTexture}>} tiles
   * @param {ImageSource} source
   * @param {View} view
   * @param {ChannelSettings[]} channels
   * @param {string} blend
   * @param {number} dpr
   * @returns {number} tiles drawn
   */
  draw(tiles, source, view, channels, blend, dpr) {
    const gl = this.gl;
    const W = this.canvas.width, H = this.canvas.height;
    gl.viewport(0, 0, W, H);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.program);
    gl.bindVertexArray(this.vao);
    let n = 0;
    for (let c = 0; c < channels.length && n < this.maxChannels; c++) {
      const ch = channels[c];
      if (!ch.visible) continue;
      let [lo, hi] = ch.window;
      if (!(hi > lo)) hi = lo + 1e-3;
      const rgb = parseInt(ch.color.slice(1), 16);
      const mode = Math.max(0, COLORMAPS.indexOf(ch.colormap)) * 2 + (ch.invert ? 1 : 0);
      this.window.set([lo, hi, ch.gamma > 0 ? ch.gamma : 1, c], 4 * n);
      this.color.set([(rgb >> 16 & 255) / 255, (rgb >> 8 & 255) / 255, (rgb & 255) / 255, mode], 4 * n);
      n++;
    }
    gl.uniform4fv(this.loc.u_window, this.window, 0, 4 * Math.max(1, n));
    gl.uniform4fv(this.loc.u_color, this.color, 0, 4 * Math.max(1, n));
    gl.uniform1i(this.loc.u_count, n);
    gl.uniform1i(this.loc.u_blend, Math.max(0, BLENDS.indexOf(blend)));
    gl.uniform1f(this.loc.u_canvasHeight, H);
    gl.uniform1i(this.loc.u_tile, 0);
    gl.activeTexture(gl.TEXTURE0);
    let draws = 0;
    for (const e of tiles) {
      const at = tilePlacement(view, dpr, W, H, source.levels[e.level], e.ty, e.tx);
      if (!at) continue;
      const [x0, y0, x1, y1] = at.quad;
      gl.uniform4f(this.loc.u_rect, x0 / W * 2 - 1, 1 - y0 / H * 2, x1 / W * 2 - 1, 1 - y1 / H * 2);
      gl.uniform2f(this.loc.u_origin, at.origin[0], at.origin[1]);
      gl.uniform1f(this.loc.u_scale, at.scale);
      gl.uniform2i(this.loc.u_size, at.size[0], at.size[1]);
      gl.bindTexture(gl.TEXTURE_2D_ARRAY, e.texture);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      draws++;
    }
    return draws;
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

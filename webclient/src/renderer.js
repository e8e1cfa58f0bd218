// WebGL2 renderer: one draw per tile, every visible channel composited in that draw.
import { buildProgramSources, describeCompileError, MAX_CHANNELS, COLORMAPS, BLENDS } from './shader-builder.js';

/** Thrown when the browser has no WebGL2. */
export class WebGLUnavailable extends Error {}

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error('Shader compile error:\n' + describeCompileError(source, gl.getShaderInfoLog(shader) || ''));
  }
  return shader;
}

export class Renderer {
  constructor(canvas) {
    // preserveDrawingBuffer so PNG export and tests can read the last frame at any time.
    const gl = canvas.getContext('webgl2', { premultipliedAlpha: false, preserveDrawingBuffer: true, antialias: false, alpha: false });
    if (!gl) throw new WebGLUnavailable('This viewer needs WebGL2, which this browser does not provide (or has disabled).');
    this.gl = gl;
    this.canvas = canvas;
    const src = buildProgramSources();
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, src.vertex));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, src.fragment));
    gl.bindAttribLocation(program, 0, 'a_corner');
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error('Shader link error: ' + gl.getProgramInfoLog(program));
    this.program = program;
    this.loc = {};
    for (const name of ['u_rect', 'u_tile', 'u_origin', 'u_scale', 'u_canvasHeight', 'u_size', 'u_count',
      'u_window', 'u_color', 'u_mode', 'u_blend']) this.loc[name] = gl.getUniformLocation(program, name);
    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    this.window = new Float32Array(4 * MAX_CHANNELS);
    this.color = new Float32Array(4 * MAX_CHANNELS);
    this.mode = new Int32Array(4 * MAX_CHANNELS);
    this.readFbo = gl.createFramebuffer();
  }

  /**
   * Draw `tiles` (coarse first) for `view` ({center, zoom} in level-0 pixels and CSS pixels per
   * level-0 pixel) with `channels` (settings with their channel index) and `blend` (name).
   */
  draw(tiles, source, view, channels, blend, dpr) {
    const gl = this.gl;
    const W = this.canvas.width, H = this.canvas.height;
    gl.viewport(0, 0, W, H);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.program);
    gl.bindVertexArray(this.vao);
    const visible = channels.filter((c) => c.visible).slice(0, MAX_CHANNELS);
    visible.forEach((ch, i) => {
      let [lo, hi] = ch.window;
      if (!(hi > lo)) hi = lo + 1e-3;
      this.window.set([lo, hi, ch.gamma > 0 ? ch.gamma : 1, 0], 4 * i);
      const rgb = parseInt(ch.color.slice(1), 16);
      this.color.set([(rgb >> 16 & 255) / 255, (rgb >> 8 & 255) / 255, (rgb & 255) / 255, 0], 4 * i);
      this.mode.set([ch.index, Math.max(0, COLORMAPS.indexOf(ch.colormap)), ch.invert ? 1 : 0, 0], 4 * i);
    });
    gl.uniform4fv(this.loc.u_window, this.window);
    gl.uniform4fv(this.loc.u_color, this.color);
    gl.uniform4iv(this.loc.u_mode, this.mode);
    gl.uniform1i(this.loc.u_count, visible.length);
    gl.uniform1i(this.loc.u_blend, Math.max(0, BLENDS.indexOf(blend)));
    gl.uniform1f(this.loc.u_canvasHeight, H);
    gl.uniform1i(this.loc.u_tile, 0);
    gl.activeTexture(gl.TEXTURE0);
    const zoom = view.zoom * dpr;
    let draws = 0;
    for (const e of tiles) {
      const lv = source.levels[e.level];
      const d = lv.downsample;
      const ox = e.tx * lv.chunk.x, oy = e.ty * lv.chunk.y;
      const w = Math.min(lv.chunk.x, lv.size.x - ox), h = Math.min(lv.chunk.y, lv.size.y - oy);
      const sx0 = (ox * d - view.center[0]) * zoom + W / 2, sx1 = ((ox + w) * d - view.center[0]) * zoom + W / 2;
      const sy0 = (oy * d - view.center[1]) * zoom + H / 2, sy1 = ((oy + h) * d - view.center[1]) * zoom + H / 2;
      if (sx1 < 0 || sy1 < 0 || sx0 > W || sy0 > H) continue;
      gl.uniform4f(this.loc.u_rect, sx0 / W * 2 - 1, 1 - sy0 / H * 2, sx1 / W * 2 - 1, 1 - sy1 / H * 2);
      gl.uniform2f(this.loc.u_origin, view.center[0] / d - ox - W / 2 / (zoom * d), view.center[1] / d - oy - H / 2 / (zoom * d));
      gl.uniform1f(this.loc.u_scale, 1 / (zoom * d));
      gl.uniform2i(this.loc.u_size, w, h);
      gl.bindTexture(gl.TEXTURE_2D_ARRAY, e.texture);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      draws++;
    }
    return draws;
  }

  /** Raw value of texel (x, y) of layer `layer` of a tile texture (for the readout). */
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

#version 300 es
// Stage 2: composite every visible channel of one tile in one pass.
// Channels are layers of one unsigned-integer texture array, so the channel count is a uniform and
// toggling a channel never waits for a compile. The builder sets MAX_CHANNELS (what the GPU's uniform
// and texture-layer limits allow, at least 100 on any WebGL2; or N for a program drawing exactly N
// visible channels, then with `#define PREFIX_CHANNELS` on the defines marker below when they are
// channels 0..N-1, as `#define PLAIN_GAMMA` for composite.plain.glsl with gamma) and replaces the three
// other markers: the first two with the functions of every colormap_*.glsl and blend_*.glsl file (and
// those defined at run time) and a dispatcher over their ids, the last with `vec3 composite()`: the
// built-in one (composite.builtin.glsl, composite.plain.glsl for the usual view, or written out for
// one view's channels and colormaps by the builder) or a user's (viewer.setShader).
// channelCount, raw, windowed, channelColor, channelColormap and blendMode are what a compositing
// shader may call (docs/viewer.md, "Extending the shaders").
precision highp float;
precision highp int;
precision highp usampler2DArray;

#define MAX_CHANNELS __MAX_CHANNELS__
//@defines

uniform usampler2DArray u_tile;
// This fragment's position in the tile's texels (relative to the tile origin, rows downwards): from
// the quad's corners (tile.vert.glsl), computed in double precision on the CPU, so huge planes stay exact.
in vec2 v_texel;
uniform ivec2 u_size;         // valid texels of this tile (edge tiles are smaller than the chunk)
uniform int u_count;          // number of visible channels packed below
// lo, 1 / (hi - lo), gamma, texture layer (composite.plain.glsl: hi and -1 / (hi - lo) when inverted)
uniform vec4 u_window[MAX_CHANNELS];
uniform vec4 u_color[MAX_CHANNELS];   // channel colour (rgb 0..1), colormap id * 2 + invert (0/1)
uniform int u_blend;

out vec4 fragColor;

ivec2 ct_texel;  // this pixel's texel in the tile

// channelCount(): visible channels at this pixel (i below counts visible channels, in channel order).
// raw(i): raw value of the i-th visible channel at this pixel.
#ifdef PREFIX_CHANNELS
// A program for exactly the first MAX_CHANNELS channels: the compiler unrolls the loops and every
// channel's layer is a constant (a layer read from a uniform costs software GL ~20 % of the frame).
int channelCount() { return MAX_CHANNELS; }
float raw(int i) { return float(texelFetch(u_tile, ivec3(ct_texel, i), 0).r); }
#else
int channelCount() { return u_count; }
float raw(int i) { return float(texelFetch(u_tile, ivec3(ct_texel, int(u_window[i].w)), 0).r); }
#endif

// 0..1 after the i-th visible channel's window, gamma and invert.
float windowed(int i) {
  vec4 win = u_window[i];
  float t = clamp((raw(i) - win.x) * win.y, 0.0, 1.0);
  if (win.z != 1.0) t = t > 0.0 ? pow(t, win.z) : 0.0;  // pow is costly on software renderers
  if ((int(u_color[i].w) & 1) == 1) t = 1.0 - t;
  return t;
}

// The i-th visible channel's colour (rgb 0..1).
vec3 channelColor(int i) { return u_color[i].rgb; }

//@colormaps

//@blends

// The i-th visible channel's colormap applied to t, and the view's blend mode.
vec3 channelColormap(int i, float t) { return applyColormap(int(u_color[i].w) >> 1, t, u_color[i].rgb); }
vec3 blendMode(vec3 acc, vec3 rgb) { return applyBlend(u_blend, acc, rgb); }

//@composite

void main() {
  // The quad holds exactly the pixels whose sample point is in this tile (decided on the CPU,
  // view.js tilePlacement); the clamp only undoes float32 rounding at its edges.
  ct_texel = clamp(ivec2(floor(v_texel)), ivec2(0), u_size - 1);
  fragColor = vec4(clamp(composite(), 0.0, 1.0), 1.0);
}

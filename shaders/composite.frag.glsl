#version 300 es
// Stage 2: composite every visible channel of one tile in one pass.
// Channels are layers of one unsigned-integer texture array, so the channel count is a uniform and
// toggling a channel never recompiles. The builder sets MAX_CHANNELS (what the GPU's uniform and
// texture-layer limits allow, at least 100 on any WebGL2) and replaces the two markers below with the
// functions of every colormap_*.glsl and blend_*.glsl file and a dispatcher over their ids.
precision highp float;
precision highp int;
precision highp usampler2DArray;

#define MAX_CHANNELS __MAX_CHANNELS__

uniform usampler2DArray u_tile;
// Level pixel (relative to the tile origin) at the canvas' top-left corner, and level pixels per
// canvas pixel: both computed in double precision on the CPU, so huge planes stay exact.
uniform vec2 u_origin;
uniform float u_scale;
uniform float u_canvasHeight;
uniform ivec2 u_size;         // valid texels of this tile (edge tiles are smaller than the chunk)
uniform int u_count;          // number of visible channels packed below
uniform vec4 u_window[MAX_CHANNELS];  // lo, hi, gamma, texture layer
uniform vec4 u_color[MAX_CHANNELS];   // channel colour (rgb 0..1), colormap id * 2 + invert (0/1)
uniform int u_blend;

out vec4 fragColor;

//@colormaps

//@blends

void main() {
  vec2 p = u_origin + vec2(gl_FragCoord.x, u_canvasHeight - gl_FragCoord.y) * u_scale;
  ivec2 texel = ivec2(floor(p));
  // The quad is a pixel larger than the tile on every side: a pixel whose sample point lies in
  // another tile (or outside the image) is that tile's (or stays black), so edges are exact.
  if (any(lessThan(texel, ivec2(0))) || any(greaterThanEqual(texel, u_size))) discard;
  vec3 acc = vec3(0.0);
  for (int i = 0; i < MAX_CHANNELS; i++) {
    if (i >= u_count) break;
    vec4 win = u_window[i];
    vec4 col = u_color[i];
    int mode = int(col.w);
    float v = float(texelFetch(u_tile, ivec3(texel, int(win.w)), 0).r);
    float t = clamp((v - win.x) / (win.y - win.x), 0.0, 1.0);
    if (win.z != 1.0) t = t > 0.0 ? pow(t, win.z) : 0.0;  // pow is costly on software renderers
    if ((mode & 1) == 1) t = 1.0 - t;
    acc = applyBlend(u_blend, acc, applyColormap(mode >> 1, t, col.rgb));
  }
  fragColor = vec4(clamp(acc, 0.0, 1.0), 1.0);
}

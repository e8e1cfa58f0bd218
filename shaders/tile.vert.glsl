#version 300 es
// Stage 1: one screen-aligned quad per tile. u_rect is the quad's rectangle in clip space (x0, y0,
// x1, y1), its corners on whole canvas pixels; u_texels is the tile texel position at those corners
// (computed on the CPU in double precision), interpolated for each fragment. On software GL
// (SwiftShader) this varying is cheaper than finding the texel from gl_FragCoord in the fragment
// stage (bench/viewer: ~3 ms of a 1000 x 800 frame).
in vec2 a_corner;
uniform vec4 u_rect;
uniform vec4 u_texels;
out vec2 v_texel;

void main() {
  gl_Position = vec4(mix(u_rect.xy, u_rect.zw, a_corner), 0.0, 1.0);
  v_texel = mix(u_texels.xy, u_texels.zw, a_corner);
}

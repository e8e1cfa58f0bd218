#version 300 es
// Stage 1: one screen-aligned quad per tile. u_rect is the tile's rectangle in clip space
// (x0, y0, x1, y1); the fragment stage finds its texel from gl_FragCoord, so no varyings are needed.
in vec2 a_corner;
uniform vec4 u_rect;

void main() {
  gl_Position = vec4(mix(u_rect.xy, u_rect.zw, a_corner), 0.0, 1.0);
}

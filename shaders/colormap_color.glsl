// The channel's own colour, scaled by intensity: rgb = t * colour.
vec3 colormap_color(float t, vec3 color) {
  return t * color;
}

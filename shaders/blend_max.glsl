// Maximum: each output component is the largest over the visible channels.
vec3 blend_max(vec3 acc, vec3 rgb) {
  return max(acc, rgb);
}

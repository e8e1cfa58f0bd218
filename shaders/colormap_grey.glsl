// Grey ramp, ignoring the channel colour: rgb = (t, t, t).
vec3 colormap_grey(float t, vec3 color) {
  return vec3(t);
}

// "Hot" black-red-yellow-white: each primary ramps over one third of the range.
vec3 colormap_fire(float t, vec3 color) {
  return clamp(vec3(3.0 * t, 3.0 * t - 1.0, 3.0 * t - 2.0), 0.0, 1.0);
}

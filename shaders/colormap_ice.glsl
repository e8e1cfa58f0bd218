// "Cold" black-blue-cyan-white: fire with red and blue swapped.
vec3 colormap_ice(float t, vec3 color) {
  return clamp(vec3(3.0 * t - 2.0, 3.0 * t - 1.0, 3.0 * t), 0.0, 1.0);
}

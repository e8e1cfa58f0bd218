// Additive: channels add up; the result is clamped to [0, 1] once at the end.
vec3 blend_additive(vec3 acc, vec3 rgb) {
  return acc + rgb;
}

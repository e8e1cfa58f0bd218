// The built-in compositing when every visible channel uses the `color` colormap and the blend is
// `additive` (the usual fluorescence view): composite.builtin.glsl's maths without its colormap and
// blend dispatch, which a software renderer pays for at every pixel of every channel. The renderer
// builds both programs up front and picks one per frame, so switching never compiles.
vec3 composite() {
  vec3 acc = vec3(0.0);
  for (int i = 0; i < MAX_CHANNELS; i++) {
    if (i >= channelCount()) break;
    acc += windowed(i) * channelColor(i);
  }
  return acc;
}

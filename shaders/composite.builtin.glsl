// The built-in compositing: every visible channel through its window and colormap, folded together
// with the view's blend mode. A compositing shader (viewer.setShader) replaces this function.
vec3 composite() {
  vec3 acc = vec3(0.0);
  for (int i = 0; i < MAX_CHANNELS; i++) {
    if (i >= channelCount()) break;
    acc = blendMode(acc, channelColormap(i, windowed(i)));
  }
  return acc;
}

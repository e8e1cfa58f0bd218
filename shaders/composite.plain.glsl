// The built-in compositing when every visible channel uses the `color` colormap with gamma 1 and the
// blend is `additive` (the usual fluorescence view): composite.builtin.glsl's maths without its
// colormap, blend and gamma code. A software renderer (SwiftShader) runs every branch of a shader at
// every pixel whatever the condition, so that code cost 2-5x this loop. The renderer folds invert
// into the window (u_window holds hi and -1 / (hi - lo) then) and builds this program once for any
// visible channels and once for each small count N of channels 0..N-1 visible (PREFIX_CHANNELS: the
// loop unrolls, layers are constants), all at start, and picks one per frame: switching never compiles.
vec3 composite() {
  vec3 acc = vec3(0.0);
  for (int i = 0; i < MAX_CHANNELS; i++) {
    if (i >= channelCount()) break;
    acc += clamp((raw(i) - u_window[i].x) * u_window[i].y, 0.0, 1.0) * channelColor(i);
  }
  return acc;
}

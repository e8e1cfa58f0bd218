// The built-in compositing when every visible channel uses the `color` colormap and the blend is
// `additive` (the usual fluorescence view): composite.builtin.glsl's maths without its colormap and
// blend code, and without gamma unless built with PLAIN_GAMMA. A software renderer (SwiftShader) runs
// every branch of a shader at every pixel whatever the condition, so that code cost 2-5x this loop.
// Without gamma the renderer folds invert into the window (u_window holds hi and -1 / (hi - lo) then).
// Built at start for any visible channels, and once the first view is complete with gamma. It draws
// a view until the view's own program, with the loop written out (shader-builder.js, "mapped"), is
// built; the renderer picks one per frame, so switching never waits for a compile.
vec3 composite() {
  vec3 acc = vec3(0.0);
  for (int i = 0; i < MAX_CHANNELS; i++) {
    if (i >= channelCount()) break;
    float t = clamp((raw(i) - u_window[i].x) * u_window[i].y, 0.0, 1.0);
#ifdef PLAIN_GAMMA
    // the variant for views with gamma: gamma, then invert (u_color.w is 1 when inverted) without a branch
    t = abs(u_color[i].w - (t > 0.0 ? pow(t, u_window[i].z) : 0.0));
#endif
    acc += t * channelColor(i);
  }
  return acc;
}

// Modules the build generates (webclient/build.mjs), declared for the type check.
declare module 'virtual:shaders' {
  const sources: Record<string, string>;
  export default sources;
}

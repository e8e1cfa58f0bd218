// Composes the GLSL program from the files of shaders/ (embedded by the build as virtual:shaders).
// Every colormap_<name>.glsl defines `vec3 colormap_<name>(float t, vec3 color)` and every
// blend_<name>.glsl defines `vec3 blend_<name>(vec3 acc, vec3 rgb)`; the builder numbers them and
// writes the dispatchers, so a new colormap or blend mode is one new file.
import sources from 'virtual:shaders';

/**
 * The most channels one pass is built for. The renderer lowers it to what the GPU allows: two
 * uniform vectors per channel and one texture layer per channel, so at least 100 channels on any
 * WebGL2 (224 fragment uniform vectors and 256 layers are the minimum the standard guarantees).
 */
export const MAX_CHANNELS = 256;

/**
 * Channels one pass can composite given the GPU's limits.
 * @param {number} fragmentUniformVectors gl.MAX_FRAGMENT_UNIFORM_VECTORS
 * @param {number} arrayLayers gl.MAX_ARRAY_TEXTURE_LAYERS
 */
export function channelCapacity(fragmentUniformVectors, arrayLayers) {
  // 16 vectors left for the per-tile and global uniforms.
  return Math.max(1, Math.min(MAX_CHANNELS, arrayLayers, Math.floor((fragmentUniformVectors - 16) / 2)));
}

function namesWithPrefix(prefix) {
  return Object.keys(sources)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort((a, b) => (a === 'color' ? -1 : b === 'color' ? 1 : a.localeCompare(b)));
}

/** Colormap names in id order ('color', the channel colour, first). */
export const COLORMAPS = namesWithPrefix('colormap_');
/** Blend mode names in id order. */
export const BLENDS = namesWithPrefix('blend_').sort((a, b) => (a === 'additive' ? -1 : b === 'additive' ? 1 : 0));

function dispatcher(kind, names, signature, args) {
  const lines = names.map((n, i) => `  if (id == ${i}) return ${kind}_${n}(${args});`);
  return `vec3 ${signature} {\n${lines.join('\n')}\n  return vec3(0.0);\n}`;
}

/**
 * Vertex and fragment source of the compositing program, for up to `maxChannels` visible channels.
 * @param {number} [maxChannels]
 */
export function buildProgramSources(maxChannels = MAX_CHANNELS) {
  const colormaps = COLORMAPS.map((n) => sources[`colormap_${n}`]).join('\n') + '\n' +
    dispatcher('colormap', COLORMAPS, 'applyColormap(int id, float t, vec3 color)', 't, color');
  const blends = BLENDS.map((n) => sources[`blend_${n}`]).join('\n') + '\n' +
    dispatcher('blend', BLENDS, 'applyBlend(int id, vec3 acc, vec3 rgb)', 'acc, rgb');
  const fragment = sources['composite.frag']
    .replace('__MAX_CHANNELS__', String(maxChannels))
    .replace('//@colormaps', colormaps)
    .replace('//@blends', blends);
  return { vertex: sources['tile.vert'], fragment };
}

/** Compile error text with numbered source lines around the failing ones (as Neuroglancer does). */
export function describeCompileError(source, log) {
  const lines = source.split('\n');
  const wanted = new Set();
  for (const m of log.matchAll(/ERROR: \d+:(\d+)/g)) {
    const n = Number(m[1]);
    for (let i = n - 2; i <= n + 2; i++) wanted.add(i);
  }
  const excerpt = [...wanted].filter((i) => i >= 1 && i <= lines.length).sort((a, b) => a - b)
    .map((i) => `${String(i).padStart(4)}: ${lines[i - 1]}`).join('\n');
  return `${log.trim()}\n${excerpt}`;
}

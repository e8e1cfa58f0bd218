// @ts-check
// Composes the GLSL program from the files of shaders/ (embedded by the build as virtual:shaders).
// Every colormap_<name>.glsl defines `vec3 colormap_<name>(float t, vec3 color)` and every
// blend_<name>.glsl defines `vec3 blend_<name>(vec3 acc, vec3 rgb)`; the builder numbers them and
// writes the dispatchers, so a new colormap or blend mode is one new file. Colormaps, blends and a
// compositing function defined at run time (viewer.defineColormap, defineBlend, setShader) are the
// same text, checked here first (size, loops, #uicontrol lines) and composed the same way.
import sources from 'virtual:shaders';

/**
 * The most channels one pass is built for. The renderer lowers it to what the GPU allows: two
 * uniform vectors per channel and one texture layer per channel, so at least 100 channels on any
 * WebGL2 (224 fragment uniform vectors and 256 layers are the minimum the standard guarantees).
 */
export const MAX_CHANNELS = 256;

/** Longest user shader source accepted (characters). */
export const MAX_SOURCE_CHARS = 16384;

/**
 * Channels one pass can composite given the GPU's limits.
 * @param {number} fragmentUniformVectors gl.MAX_FRAGMENT_UNIFORM_VECTORS
 * @param {number} arrayLayers gl.MAX_ARRAY_TEXTURE_LAYERS
 */
export function channelCapacity(fragmentUniformVectors, arrayLayers) {
  // 16 vectors left for the per-tile and global uniforms (and a shader's #uicontrol uniforms).
  return Math.max(1, Math.min(MAX_CHANNELS, arrayLayers, Math.floor((fragmentUniformVectors - 16) / 2)));
}

/**
 * The names of the shader files starting with `prefix`, 'color' first, then in code-unit order (not
 * localeCompare: its first call loads the browser's collation data, 8-15 ms of the page's start here).
 * @param {string} prefix
 */
function namesWithPrefix(prefix) {
  return Object.keys(sources)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort((a, b) => (a === 'color' ? -1 : b === 'color' ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** Built-in colormap names in id order ('color', the channel colour, first). */
export const COLORMAPS = Object.freeze(namesWithPrefix('colormap_'));
/** Built-in blend mode names in id order. */
export const BLENDS = Object.freeze(namesWithPrefix('blend_').sort((a, b) => (a === 'additive' ? -1 : b === 'additive' ? 1 : 0)));
/** The built-in `vec3 composite()`: the starting point of the shader editor. */
export const BUILTIN_COMPOSITE = sources['composite.builtin'];
const PLAIN_COMPOSITE = sources['composite.plain'];

/** A user shader that does not compile or breaks the rules; `line` is 1-based in the user's source. */
export class ShaderError extends Error {
  /**
   * @param {string} message
   * @param {number} line
   */
  constructor(message, line) {
    super(message);
    this.name = 'ShaderError';
    this.line = line;
  }
}

/**
 * A control declared by a `#uicontrol` line.
 * @typedef {{name: string, type: 'float', widget: 'slider', min: number, max: number, step: number, default: number}
 *   | {name: string, type: 'vec3', widget: 'color', default: string}
 *   | {name: string, type: 'bool', widget: 'checkbox', default: boolean}} ShaderControl
 */

/**
 * User definitions a program is built with.
 * @typedef {object} ProgramParts
 * @property {Array<[string, string]>} [colormaps] user colormaps [name, source], after the built-in ones
 * @property {Array<[string, string]>} [blends] user blends [name, source]
 * @property {?string} [composite] a checked compositing source (#uicontrol lines already uniforms)
 * @property {boolean} [plain] without `composite`: the built-in's `color` + `additive` case
 *   (composite.plain.glsl) instead of its general loop
 * @property {boolean} [prefix] the program draws exactly channels 0..maxChannels-1, channel i from
 *   texture layer i (PREFIX_CHANNELS)
 * @property {boolean} [gamma] with `plain`: each channel's gamma and invert applied (PLAIN_GAMMA)
 * @property {MappedChannel[]} [mapped] without `composite`: the built-in compositing written out for
 *   exactly these visible channels, each with its own colormap (see mappedComposite)
 * @property {string} [blend] with `mapped`: the blend mode's name
 */

/**
 * One visible channel of a `mapped` program: its colormap's name, whether its gamma is other than 1,
 * and whether it is inverted (used with gamma only: without, the renderer folds invert into the window).
 * @typedef {{colormap: string, gamma: boolean, invert: boolean}} MappedChannel
 */

const RESERVED = new Set(['channelCount', 'raw', 'windowed', 'channelColor', 'channelColormap', 'blendMode',
  'composite', 'applyColormap', 'applyBlend', 'main', 'fragColor', 'MAX_CHANNELS']);

/**
 * The source with comments blanked out (same length, newlines kept), so the checks below see code only.
 * @param {string} src
 */
function withoutComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => m.replace(/[^\n]/g, ' '));
}

/**
 * @param {string} src
 * @param {number} index
 */
const lineAt = (src, index) => src.slice(0, index).split('\n').length;

/**
 * Index just past the statement or block that starts at `from` (a loop's body).
 * @param {string} code
 * @param {number} from
 */
function bodyEnd(code, from) {
  let i = from;
  while (i < code.length && /\s/.test(code[i])) i++;
  if (code[i] !== '{') { const semi = code.indexOf(';', i); return semi < 0 ? code.length : semi; }
  let depth = 0;
  for (; i < code.length; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth === 0) return i;
  }
  return code.length;
}

const BOUND = String.raw`(?:\d+|MAX_CHANNELS|channelCount\(\s*\))`;

/**
 * Reject what could make a frame run away: loops other than `for` over a counter with a constant
 * bound (a literal, MAX_CHANNELS or channelCount()) that the body does not change, and preprocessor
 * directives (a #define could hide anything).
 * @param {string} src
 * @param {boolean} allowControls whether #uicontrol lines are allowed (compositing shaders)
 */
function checkRules(src, allowControls) {
  if (src.length > MAX_SOURCE_CHARS) {
    throw new ShaderError(`The shader source is ${src.length} characters long; at most ${MAX_SOURCE_CHARS} are allowed.`, 1);
  }
  const code = withoutComments(src);
  for (const m of code.matchAll(/^[ \t]*#[ \t]*(\w*)/gm)) {
    if (allowControls && m[1] === 'uicontrol') continue;
    throw new ShaderError(`line ${lineAt(code, m.index)}: #${m[1]} is not allowed in a user shader` +
      `${allowControls ? ' (only #uicontrol lines)' : ''}.`, lineAt(code, m.index));
  }
  for (const m of code.matchAll(/\b(while|do)\b/g)) {
    throw new ShaderError(`line ${lineAt(code, m.index)}: '${m[1]}' loops are not allowed: use a for loop with a constant bound ` +
      '(a number, MAX_CHANNELS or channelCount()).', lineAt(code, m.index));
  }
  for (const m of code.matchAll(/\bfor\s*\(([^;]*);([^;]*);([^)]*)\)/g)) {
    const line = lineAt(code, m.index);
    const init = m[1].match(/^\s*int\s+(\w+)\s*=\s*-?\d+\s*$/);
    const v = init ? init[1] : '';
    const up = new RegExp(String.raw`^\s*${v}\s*<=?\s*${BOUND}\s*$`).test(m[2]) &&
      new RegExp(String.raw`^\s*(?:${v}\s*\+\+|\+\+\s*${v}|${v}\s*\+=\s*[1-9]\d*)\s*$`).test(m[3]);
    const down = new RegExp(String.raw`^\s*${v}\s*>=?\s*-?\d+\s*$`).test(m[2]) &&
      new RegExp(String.raw`^\s*(?:${v}\s*--|--\s*${v}|${v}\s*-=\s*[1-9]\d*)\s*$`).test(m[3]);
    if (!init || !(up || down)) {
      throw new ShaderError(`line ${line}: this loop has no bound the compiler can see: write ` +
        'for (int i = 0; i < N; i++) with N a number, MAX_CHANNELS or channelCount().', line);
    }
    const start = /** @type {number} */ (m.index) + m[0].length;
    const body = code.slice(start, bodyEnd(code, start));
    const assign = body.match(new RegExp(String.raw`(?:\b${v}\s*(?:[-+*/%]?=(?!=)|\+\+|--))|(?:(?:\+\+|--)\s*${v}\b)`));
    if (assign) {
      const at = lineAt(code, start + /** @type {number} */ (assign.index));
      throw new ShaderError(`line ${at}: the loop counter ${v} is changed inside its loop; the loop must keep its bound.`, at);
    }
  }
}

/**
 * Check a colormap or blend source defined at run time.
 * @param {'colormap' | 'blend'} kind
 * @param {string} name
 * @param {string} source
 */
export function checkDefinition(kind, name, source) {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9_]{0,31}$/.test(name)) {
    throw new TypeError(`a ${kind} name is 1-32 lowercase letters, digits or _, starting with a letter; got ${JSON.stringify(name)}`);
  }
  if ((kind === 'colormap' ? COLORMAPS : BLENDS).includes(name)) throw new TypeError(`${kind} ${name} is built in; choose another name`);
  if (typeof source !== 'string') throw new TypeError(`the ${kind} source must be a string`);
  checkRules(source, false);
  const signature = kind === 'colormap' ? `vec3 colormap_${name}(float t, vec3 color)` : `vec3 blend_${name}(vec3 acc, vec3 rgb)`;
  if (!new RegExp(String.raw`\bvec3\s+${kind}_${name}\s*\(`).test(withoutComments(source))) {
    throw new ShaderError(`The source must define ${signature}.`, 1);
  }
}

/**
 * Check a compositing source and read its #uicontrol lines: the source to compile (each #uicontrol
 * line replaced by its uniform declaration, so line numbers stay) and the declared controls.
 * @param {string} source
 * @returns {{code: string, controls: ShaderControl[]}}
 */
export function parseCompositeShader(source) {
  if (typeof source !== 'string') throw new TypeError('the shader source must be a string (or null for the built-in)');
  checkRules(source, true);
  /** @type {ShaderControl[]} */
  const controls = [];
  const lines = source.split('\n').map((text, i) => {
    if (!/^\s*#\s*uicontrol\b/.test(text)) return text;
    const line = i + 1;
    const bad = (/** @type {string} */ why) => new ShaderError(`line ${line}: ${why}`, line);
    const m = text.match(/^\s*#\s*uicontrol\s+(\w+)\s+(\w+)\s+(\w+)\s*\((.*)\)\s*(?:\/\/.*)?$/);
    if (!m) throw bad('expected #uicontrol TYPE NAME WIDGET(key=value, ...), e.g. #uicontrol float gain slider(min=0, max=2, default=1)');
    const [, type, name, widget, argText] = m;
    if (RESERVED.has(name) || /^(gl_|u_|ct_)/.test(name)) throw bad(`the control name ${name} is taken by the viewer`);
    if (controls.some((c) => c.name === name)) throw bad(`control ${name} is declared twice`);
    /** @type {Record<string, string>} */
    const args = {};
    for (const part of argText.split(',').map((s) => s.trim()).filter(Boolean)) {
      const kv = part.match(/^(\w+)\s*=\s*(.+)$/);
      if (!kv) throw bad(`"${part}" is not key=value`);
      args[kv[1]] = kv[2].trim().replace(/^"(.*)"$/, '$1');
    }
    const num = (/** @type {string} */ k, /** @type {number} */ dflt) => {
      if (args[k] === undefined) return dflt;
      const v = Number(args[k]);
      if (!Number.isFinite(v)) throw bad(`${k}=${args[k]} is not a number`);
      return v;
    };
    if (type === 'float' && widget === 'slider') {
      const min = num('min', 0), max = num('max', 1);
      if (!(max > min)) throw bad(`slider max (${max}) must be above min (${min})`);
      const dflt = num('default', min);
      if (dflt < min || dflt > max) throw bad(`slider default ${dflt} is outside ${min}..${max}`);
      controls.push({ name, type, widget, min, max, step: num('step', 0), default: dflt }); // step 0: any value
    } else if (type === 'vec3' && widget === 'color') {
      const dflt = args.default === undefined ? '#ffffff' : args.default;
      if (!/^#[0-9a-fA-F]{6}$/.test(dflt)) throw bad(`color default must be "#rrggbb", got ${dflt}`);
      controls.push({ name, type, widget, default: dflt.toLowerCase() });
    } else if (type === 'bool' && widget === 'checkbox') {
      const dflt = args.default === undefined ? 'false' : args.default;
      if (dflt !== 'true' && dflt !== 'false') throw bad(`checkbox default must be true or false, got ${dflt}`);
      controls.push({ name, type, widget, default: dflt === 'true' });
    } else {
      throw bad(`unknown control "${type} ${widget}": use float slider(...), vec3 color(...) or bool checkbox(...)`);
    }
    return `uniform ${type} ${name};`;
  });
  if (!/\bvec3\s+composite\s*\(\s*(?:void\s*)?\)/.test(withoutComments(source))) {
    throw new ShaderError('The source must define vec3 composite().', 1);
  }
  return { code: lines.join('\n'), controls };
}

/**
 * @param {string} kind
 * @param {readonly string[]} names
 * @param {string} signature
 * @param {string} args
 */
function dispatcher(kind, names, signature, args) {
  const lines = names.map((n, i) => `  if (id == ${i}) return ${kind}_${n}(${args});`);
  return `vec3 ${signature} {\n${lines.join('\n')}\n  return vec3(0.0);\n}`;
}

/**
 * The built-in compositing (composite.builtin.glsl) written out for one view: each visible channel's
 * window, gamma where it has one, and its own colormap, folded with the blend `blend`. A software GL
 * runs every branch at every pixel, so the dispatch over every colormap and blend that the built-in
 * loop calls cost a frame 2.4-2.7x the bare composite (bench/viewer --recolour); this has none.
 * Names are identifiers checked when defined (file names of shaders/, checkDefinition).
 * @param {MappedChannel[]} channels
 * @param {string} blend
 */
function mappedComposite(channels, blend) {
  const steps = channels.map((ch, i) => [
    `  t = clamp((raw(${i}) - u_window[${i}].x) * u_window[${i}].y, 0.0, 1.0);`,
    ch.gamma ? `  t = t > 0.0 ? pow(t, u_window[${i}].z) : 0.0;` : '',
    ch.gamma && ch.invert ? '  t = 1.0 - t;' : '',
    `  acc = blend_${blend}(acc, colormap_${ch.colormap}(t, u_color[${i}].rgb));`,
  ].filter(Boolean).join('\n'));
  return `vec3 composite() {\n  vec3 acc = vec3(0.0);\n  float t;\n${steps.join('\n')}\n  return acc;\n}\n`;
}

/**
 * A user source's place in the composed fragment shader, for compile errors in its own line numbers.
 * @typedef {{kind: string, name: string, start: number, lines: number}} SourceRange
 */

/**
 * Vertex and fragment source of the compositing program, for up to `maxChannels` visible channels,
 * with the user definitions of `parts`; `ranges` locate each user source in the fragment.
 * @param {number} [maxChannels]
 * @param {ProgramParts} [parts]
 */
export function buildProgramSources(maxChannels = MAX_CHANNELS, parts = {}) {
  const userMaps = parts.colormaps || [], userBlends = parts.blends || [];
  /** @type {Array<{kind: string, name: string, text: string}>} */
  const blocks = [];
  const section = (/** @type {string} */ kind, /** @type {readonly string[]} */ builtin, /** @type {Array<[string, string]>} */ user,
    /** @type {string} */ signature, /** @type {string} */ args) => {
    const text = builtin.map((n) => sources[`${kind}_${n}`]).join('\n') + '\n';
    const out = [{ kind: '', name: '', text }];
    for (const [name, src] of user) out.push({ kind, name, text: src }, { kind: '', name: '', text: '\n' });
    out.push({ kind: '', name: '', text: dispatcher(kind, [...builtin, ...user.map((u) => u[0])], signature, args) });
    return out;
  };
  const [head, rest1] = sources['composite.frag'].replace('__MAX_CHANNELS__', String(maxChannels))
    .replace(/^\/\/@defines$/m, [parts.prefix && '#define PREFIX_CHANNELS', parts.gamma && '#define PLAIN_GAMMA']
      .filter(Boolean).join('\n')).split('//@colormaps');
  const [mid1, rest2] = rest1.split('//@blends');
  const [mid2, tail] = rest2.split('//@composite');
  blocks.push({ kind: '', name: '', text: head },
    ...section('colormap', COLORMAPS, userMaps, 'applyColormap(int id, float t, vec3 color)', 't, color'),
    { kind: '', name: '', text: mid1 },
    ...section('blend', BLENDS, userBlends, 'applyBlend(int id, vec3 acc, vec3 rgb)', 'acc, rgb'),
    { kind: '', name: '', text: mid2 },
    parts.composite ? { kind: 'shader', name: '', text: parts.composite }
      : { kind: '', name: '', text: parts.mapped ? mappedComposite(parts.mapped, parts.blend || BLENDS[0])
        : parts.plain ? PLAIN_COMPOSITE : BUILTIN_COMPOSITE },
    { kind: '', name: '', text: tail });
  /** @type {SourceRange[]} */
  const ranges = [];
  let fragment = '';
  for (const b of blocks) {
    // Every user source starts on a line of its own, so its line 1 is one line of the fragment.
    if (b.kind && !fragment.endsWith('\n')) fragment += '\n';
    const start = fragment.split('\n').length;
    fragment += b.text;
    if (b.kind) { ranges.push({ kind: b.kind, name: b.name, start, lines: b.text.split('\n').length }); fragment += '\n'; }
  }
  return { vertex: sources['tile.vert'], fragment, ranges };
}

/**
 * The compiler's log in the user's line numbers: a ShaderError whose line is that of the first error
 * in `range` (the source being defined), with every error of the log rewritten to the source it is in.
 * @param {string} log
 * @param {SourceRange[]} ranges
 * @param {SourceRange | undefined} range
 */
export function userCompileError(log, ranges, range) {
  let line = 0;
  const messages = [];
  for (const entry of log.split('\n').map((s) => s.trim()).filter(Boolean)) {
    const m = entry.match(/^(ERROR|WARNING):\s*\d+:(\d+):\s*(.*)$/);
    if (!m) { messages.push(entry); continue; }
    const n = Number(m[2]);
    const r = ranges.find((x) => n >= x.start && n < x.start + x.lines);
    if (!r) { messages.push(`(in the viewer's own code) ${m[3]}`); continue; }
    const at = n - r.start + 1;
    if (r === range && !line) line = at;
    messages.push(`${r === range ? '' : `${r.kind}${r.name ? ` ${r.name}` : ''}: `}line ${at}: ${m[3]}`);
  }
  return new ShaderError(messages.join('\n') || 'The shader does not compile.', line || 1);
}

/**
 * Compile error text with numbered source lines around the failing ones (as Neuroglancer does).
 * @param {string} source
 * @param {string} log
 */
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

// Builds the viewer the server sends: server/chromatile/static/ holds the bundle dist/chromatile.js (one
// ES module, shaders inlined), dist/worker/ (the decode worker, its codecs split out so that a worker
// loads only those of the store it decodes) and copies of the page and stylesheet (webclient/*.html,
// *.css). It lives inside the Python package so that a wheel carries it: `pip install chromatile`
// serves the viewer with no Node.js, and an editable install serves the very same folder.
//
// virtual:shaders is generated here rather than committed: every shaders/*.glsl file, keyed by file
// name, so adding a colormap or blend mode is adding one file and rebuilding.
//
// The worker is an ES module next to the bundle (dist/worker/decode-worker.js). decode-pool.js starts
// it through a one-line Blob module importing that URL, so pages on another origin can embed the
// viewer (a Worker URL must be same-origin with the page; an import from it need only allow CORS).
// Each codec beyond our blosc and lz4 decoders (the zstd decoder 74 KB; numcodecs' builds of c-blosc
// and zstd, kept as fallbacks, ~0.6-0.75 MB each) is its own chunk, fetched by the worker on first use:
// the bundle carries none of them.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const shaderDir = path.join(here, '..', 'shaders');
const siteDir = path.join(here, '..', 'server', 'chromatile', 'static');
const outDir = path.join(siteDir, 'dist');

function readShaders() {
  const files = fs.readdirSync(shaderDir).filter((f) => f.endsWith('.glsl')).sort();
  const out = {};
  for (const f of files) out[f.slice(0, -'.glsl'.length)] = fs.readFileSync(path.join(shaderDir, f), 'utf8');
  return out;
}

const virtualPlugin = {
  name: 'chromatile-virtual',
  setup(build) {
    build.onResolve({ filter: /^virtual:/ }, (args) => ({ path: args.path, namespace: 'virtual' }));
    build.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => {
      if (args.path === 'virtual:shaders') {
        return { contents: `export default ${JSON.stringify(readShaders())};`, loader: 'js' };
      }
      return null;
    });
  },
};

fs.rmSync(path.join(outDir, 'worker'), { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: [path.join(here, 'src', 'decode-worker.js')],
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  outdir: path.join(outDir, 'worker'),
  chunkNames: '[name]-[hash]',
  target: 'es2022',
  logLevel: 'warning',
});
await esbuild.build({
  entryPoints: [path.join(here, 'src', 'index.js')],
  bundle: true,
  format: 'esm',
  outfile: path.join(outDir, 'chromatile.js'),
  sourcemap: true,
  target: 'es2022',
  plugins: [virtualPlugin],
  logLevel: 'warning',
});
for (const f of fs.readdirSync(here)) {
  if (f.endsWith('.html') || f.endsWith('.css')) fs.copyFileSync(path.join(here, f), path.join(siteDir, f));
}
console.log(`built ${path.relative(process.cwd(), path.join(outDir, 'chromatile.js'))}` +
  ` (${Object.keys(readShaders()).length} shader files) and ${path.relative(process.cwd(), path.join(outDir, 'worker'))}/`);

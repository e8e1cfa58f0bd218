// Builds the viewer the server sends: server/chromatile/static/ holds the bundle dist/chromatile.js (one
// ES module, worker and shaders inlined) and copies of the page and stylesheet (webclient/*.html, *.css).
// It lives inside the Python package so that a wheel carries it: `pip install chromatile` serves the
// viewer with no Node.js, and an editable install serves the very same folder.
//
// Two virtual modules are generated here rather than committed:
//   virtual:shaders        every shaders/*.glsl file, keyed by file name, so adding a colormap or
//                          blend mode is adding one file and rebuilding;
//   virtual:decode-worker  the decode worker bundled as a classic script string, started from a Blob
//                          URL so pages on another origin can embed the viewer (a Worker URL must be
//                          same-origin with the page).
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

async function buildWorker() {
  const result = await esbuild.build({
    entryPoints: [path.join(here, 'src', 'decode-worker.js')],
    bundle: true,
    format: 'iife',
    minify: true,
    write: false,
    target: 'es2022',
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

function virtualPlugin(workerSource) {
  return {
    name: 'chromatile-virtual',
    setup(build) {
      build.onResolve({ filter: /^virtual:/ }, (args) => ({ path: args.path, namespace: 'virtual' }));
      build.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => {
        if (args.path === 'virtual:shaders') {
          return { contents: `export default ${JSON.stringify(readShaders())};`, loader: 'js' };
        }
        if (args.path === 'virtual:decode-worker') {
          return { contents: `export default ${JSON.stringify(workerSource)};`, loader: 'js' };
        }
        return null;
      });
    },
  };
}

const workerSource = await buildWorker();
fs.mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: [path.join(here, 'src', 'index.js')],
  bundle: true,
  format: 'esm',
  outfile: path.join(outDir, 'chromatile.js'),
  sourcemap: true,
  target: 'es2022',
  plugins: [virtualPlugin(workerSource)],
  logLevel: 'warning',
});
for (const f of fs.readdirSync(here)) {
  if (f.endsWith('.html') || f.endsWith('.css')) fs.copyFileSync(path.join(here, f), path.join(siteDir, f));
}
console.log(`built ${path.relative(process.cwd(), path.join(outDir, 'chromatile.js'))}` +
  ` (${Object.keys(readShaders()).length} shader files)`);

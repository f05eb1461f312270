// Builds the page as served (build_web in tests/lib.sh runs this): web/ stays readable
// sources, web/dist is what the bridge serves. The page's own modules (app.js and ui/*.js)
// become one minified module; the wasm-bindgen glue is minified on its own, so that it
// keeps its URL (pkg/client_wasm.js, next to the .wasm it fetches relative to itself; the
// e2e tests route it by that URL); DOMPurify's UMD build (already minified) is copied, since
// bundled as CommonJS it would no longer set globalThis.DOMPurify (ui/sanitize.js).
//   node tests/e2e/build-page.mjs <web dir>
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

const web = path.resolve(process.argv[2] ?? 'web');
const dist = path.join(web, 'dist');
const common = { minify: true, legalComments: 'eof', logLevel: 'warning' };

// Imports of pkg/ and vendor/ stay imports, rewritten relative to the bundle at the root.
const keepSeparate = {
  name: 'keep-separate',
  setup(b) {
    b.onResolve({ filter: /\/(pkg|vendor)\// }, (args) => ({
      path: `./${path.relative(web, path.resolve(args.resolveDir, args.path))}`,
      external: true,
    }));
  },
};

await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, 'vendor'), { recursive: true });
await build({
  ...common, entryPoints: [path.join(web, 'app.js')], bundle: true, format: 'esm',
  outfile: path.join(dist, 'app.js'), plugins: [keepSeparate],
});
// Without a `format`, esbuild keeps top-level names (e2e tests ke and w patch ImapClient).
await build({
  ...common, entryPoints: [path.join(web, 'pkg/client_wasm.js')],
  outfile: path.join(dist, 'pkg/client_wasm.js'),
});
await build({
  ...common, entryPoints: [path.join(web, 'style.css')], outfile: path.join(dist, 'style.css'),
});
for (const file of ['index.html', 'pkg/client_wasm_bg.wasm', 'vendor/purify.min.js']) {
  await copyFile(path.join(web, file), path.join(dist, file));
}

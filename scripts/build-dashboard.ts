// Builds the dashboard (src/dashboard) into dist/dashboard: one minified script and one stylesheet with
// content hashes in their names, the favicon, and index.html pointing at them. Part of `npm run build`;
// the admin API serves the result from the installed package (src/api/dashboard-assets.ts).
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'src/dashboard');
const out = join(root, 'dist/dashboard');
const assets = join(out, 'assets');

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: { app: join(source, 'main.ts'), style: join(source, 'styles/app.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome120', 'firefox121', 'safari17'],
  outdir: assets,
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const script = outputs.find((name) => name.startsWith('app-') && name.endsWith('.js'));
const style = outputs.find((name) => name.startsWith('style-') && name.endsWith('.css'));
if (script === undefined || style === undefined) throw new Error(`the dashboard build made no script or stylesheet: ${outputs.join(', ')}`);

copyFileSync(join(source, 'favicon.svg'), join(assets, 'favicon.svg'));
const html = readFileSync(join(source, 'index.html'), 'utf8').replace('{{script}}', script).replace('{{style}}', style);
writeFileSync(join(out, 'index.html'), html);

const sizes = [script, style].map((name) => {
  const bytes = readFileSync(join(assets, name));
  return `${name} ${(bytes.length / 1024).toFixed(1)} KB (${(gzipSync(bytes).length / 1024).toFixed(1)} KB gzip)`;
});
console.log(`dashboard: ${sizes.join(', ')}`);

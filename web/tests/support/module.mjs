// Loads one TypeScript module of src/ into a Node test: Vite builds it alone as an ES
// library into a temporary folder, and the test imports what it exports. The unit tests
// use it for the parts that run without a browser (the live client, the audit view's
// query, the owner's notice).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'vite';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The exports of `src/<entry>` (a path under web/, such as `src/shared/live/client.ts`). */
export async function importSource(entry) {
  const name = entry.replace(/[^a-z0-9]+/gi, '-');
  const out = mkdtempSync(join(tmpdir(), `cockpit-${name}-`));
  await build({
    root: web,
    logLevel: 'error',
    configFile: false,
    build: {
      outDir: out,
      lib: { entry: join(web, entry), formats: ['es'], fileName: () => 'module.mjs' },
      minify: false,
    },
  });
  return import(pathToFileURL(join(out, 'module.mjs')).href);
}

// A Vite plugin of our own: after a production build it writes a brotli (`.br`, quality
// 11) and a gzip (`.gz`, level 9) copy beside each compressible file of dist/, so that
// cockpit-server sends a phone the map's megabyte of script as a fraction of it without
// compressing anything per request (it serves the copies to browsers that accept them,
// see cockpit-server/src/web.rs). Node's zlib does both; no package is needed for it.
// A copy is kept only where it is smaller than the file it stands for.

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

/** Text that compresses: scripts (the map's worker is an .mjs), styles, pages, data. */
const COMPRESSIBLE = /\.(js|mjs|css|html|json|svg|webmanifest|txt)$/;
const br = promisify(brotliCompress);
const gz = promisify(gzip);

/** The files under `dir`, at any depth. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? files(join(dir, e.name)) : Promise.resolve(e.isFile() ? [join(dir, e.name)] : []))),
  );
  return nested.flat();
}

/** Writes `file.br` and `file.gz` where they are smaller than `file`; the bytes of each. */
export async function compressFile(file: string): Promise<{ plain: number; br: number | null; gzip: number | null }> {
  const plain = await readFile(file);
  const [b, g] = await Promise.all([
    br(plain, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
      },
    }),
    gz(plain, { level: constants.Z_BEST_COMPRESSION }),
  ]);
  const keep = async (bytes: Buffer, suffix: string) => {
    if (bytes.length >= plain.length) return null;
    await writeFile(file + suffix, bytes);
    return bytes.length;
  };
  return { plain: plain.length, br: await keep(b, '.br'), gzip: await keep(g, '.gz') };
}

/** Compresses every compressible file of `dir`: the sizes by path under `dir`. */
export async function precompressDir(dir: string): Promise<Map<string, Awaited<ReturnType<typeof compressFile>>>> {
  const sizes = new Map<string, Awaited<ReturnType<typeof compressFile>>>();
  const todo = (await files(dir)).filter((file) => COMPRESSIBLE.test(file));
  await Promise.all(todo.map(async (file) => sizes.set(file.slice(dir.length + 1), await compressFile(file))));
  return sizes;
}

/** The plugin: runs `precompressDir` on the build's output folder once it is written. */
export function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'cockpit-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const sizes = await precompressDir(outDir);
      let plain = 0;
      let brotli = 0;
      for (const s of sizes.values()) {
        plain += s.plain;
        brotli += s.br ?? s.plain;
      }
      this.info?.(`precompressed ${sizes.size} files: ${Math.round(plain / 1024)} kB, ${Math.round(brotli / 1024)} kB as brotli`);
    },
  };
}

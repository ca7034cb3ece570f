// The built front ends as a phone gets them from a real cockpit-server: the MapLibre chunk
// (a megabyte of script) comes as its brotli or gzip copy from the build when the browser
// accepts one, with `Content-Encoding` and `Vary`, and the copy is that very file; a client
// that accepts neither gets the plain file. Unknown pages still get the index, unknown API
// paths still a JSON 404. Raw HTTP (node:http): nothing on the way decodes the bytes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Server, webDir } from './support/server.mjs';

const dist = join(webDir, 'dist');
let server;

/** Status, headers and the body's bytes as they came over the wire. */
function fetchRaw(path, acceptEncoding) {
  return new Promise((ok, fail) => {
    const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    get(`${server.url}${path}`, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    }).on('error', fail);
  });
}

/** The built file under dist/assets/ whose name matches `pattern` (there is one). */
function asset(pattern) {
  const names = readdirSync(join(dist, 'assets')).filter((n) => pattern.test(n));
  assert.equal(names.length, 1, `one asset like ${pattern} in ${names}`);
  return names[0];
}

before(async () => {
  server = await Server.start();
});

after(async () => {
  await server?.stop();
});

describe('precompressed static files', () => {
  test('the MapLibre chunk: brotli or gzip to those who accept it, plain to the rest', async () => {
    const name = asset(/^maplibre-[\w-]+\.js$/);
    const plain = readFileSync(join(dist, 'assets', name));
    assert.ok(plain.length > 500_000, `the MapLibre chunk is the big one (${plain.length} bytes)`);

    const br = await fetchRaw(`/assets/${name}`, 'br');
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.match(br.headers.vary ?? '', /accept-encoding/i);
    assert.match(br.headers['content-type'] ?? '', /javascript/);
    assert.match(br.headers['cache-control'] ?? '', /immutable/);
    assert.ok(br.body.length < plain.length / 3, `brotli: ${br.body.length} of ${plain.length} bytes`);
    assert.deepEqual(brotliDecompressSync(br.body), plain, 'the brotli copy is the file');
    assert.deepEqual(br.body, readFileSync(join(dist, 'assets', `${name}.br`)), 'sent as the build wrote it');

    const gz = await fetchRaw(`/assets/${name}`, 'gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.body.length < plain.length / 3, `gzip: ${gz.body.length} of ${plain.length} bytes`);
    assert.deepEqual(gunzipSync(gz.body), plain, 'the gzip copy is the file');

    // What a browser sends: brotli is preferred.
    const both = await fetchRaw(`/assets/${name}`, 'gzip, deflate, br, zstd');
    assert.equal(both.headers['content-encoding'], 'br');
    assert.equal(both.body.length, br.body.length);

    for (const accept of [undefined, 'identity']) {
      const raw = await fetchRaw(`/assets/${name}`, accept);
      assert.equal(raw.status, 200);
      assert.equal(raw.headers['content-encoding'], undefined, `Accept-Encoding ${accept}`);
      assert.match(raw.headers.vary ?? '', /accept-encoding/i);
      assert.deepEqual(raw.body, plain, `Accept-Encoding ${accept}: the plain file`);
    }
  });

  test("every compressible file of the build has its copies, each the file's bytes", () => {
    const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    const files = walk(dist);
    const compressible = files.filter((f) => /\.(js|mjs|css|html|json|svg|webmanifest)$/.test(f));
    assert.ok(compressible.length >= 10, `${compressible.length} compressible files`);
    for (const f of compressible) {
      const plain = readFileSync(f);
      for (const [suffix, decode] of [['.br', brotliDecompressSync], ['.gz', gunzipSync]]) {
        if (!files.includes(f + suffix)) {
          // Only where a copy would not be smaller (a file of a few bytes).
          assert.ok(plain.length < 300, `${f}${suffix} is missing`);
          continue;
        }
        const copy = readFileSync(f + suffix);
        assert.ok(copy.length < plain.length, `${f}${suffix} is smaller`);
        assert.deepEqual(decode(copy), plain, `${f}${suffix} is the file`);
      }
    }
  });

  test('pages: the wall compressed, unknown pages the index, unknown API paths JSON 404s', async () => {
    const index = readFileSync(join(dist, 'index.html'));
    const page = await fetchRaw('/', 'br');
    assert.equal(page.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(page.body), index);
    const unknown = await fetchRaw('/wall/somewhere', 'br');
    assert.equal(unknown.status, 200);
    assert.deepEqual(brotliDecompressSync(unknown.body), index, 'an unknown page gets the index');
    assert.deepEqual((await fetchRaw('/wall/somewhere')).body, index);
    for (const path of ['/api/nothing-here', '/open311/v9/nothing']) {
      const missing = await fetchRaw(path);
      assert.equal(missing.status, 404, path);
      assert.match(missing.headers['content-type'] ?? '', /json/, path);
    }
  });
});

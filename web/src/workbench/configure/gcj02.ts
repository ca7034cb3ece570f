// WGS84 ↔ GCJ-02 in the browser, the same published transform as the server's
// (geo/src/gcj02.rs): used only to preview a GCJ-02 import where it will land and to place
// edits made on such a preview. The server converts what is saved with `crs: "gcj02"`.

const A = 6_378_245.0;
const EE = 0.006_693_421_622_965_943;

function inChina([x, y]: [number, number]): boolean {
  return x >= 72.004 && x <= 137.8347 && y >= 0.8293 && y <= 55.8271;
}

function transformLat(x: number, y: number): number {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function transformLon(x: number, y: number): number {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

export function wgs84ToGcj02(p: [number, number]): [number, number] {
  if (!inChina(p)) return p;
  const x = p[0] - 105;
  const y = p[1] - 35;
  const radLat = (p[1] / 180) * Math.PI;
  const magic = 1 - EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  const dLat = (transformLat(x, y) * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  const dLon = (transformLon(x, y) * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [p[0] + dLon, p[1] + dLat];
}

/** The inverse by fixed-point iteration, as the server does it. */
export function gcj02ToWgs84(g: [number, number]): [number, number] {
  if (!inChina(g)) return g;
  let w: [number, number] = [g[0], g[1]];
  for (let i = 0; i < 30; i++) {
    const image = wgs84ToGcj02(w);
    const ex = image[0] - g[0];
    const ey = image[1] - g[1];
    w = [w[0] - ex, w[1] - ey];
    if (Math.abs(ex) < 1e-10 && Math.abs(ey) < 1e-10) break;
  }
  return w;
}

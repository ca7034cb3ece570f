// Photos from the phone's camera are large (12 MP, 3–6 MB) and the connection is poor:
// anything above MAX_EDGE pixels on its long side or MAX_BYTES is redrawn in a canvas at
// MAX_EDGE and sent as JPEG. Smaller JPEG and PNG files go as they are.

const MAX_EDGE = 1600;
const MAX_BYTES = 1_000_000;
const QUALITY = 0.82;

export async function prepare(file: File): Promise<Blob> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file; // Not an image the browser can decode: the server will say what it is.
  }
  const { width, height } = bitmap;
  const small = Math.max(width, height) <= MAX_EDGE && file.size <= MAX_BYTES;
  if (small && (file.type === 'image/jpeg' || file.type === 'image/png')) {
    bitmap.close();
    return file;
  }
  const scale = Math.min(1, MAX_EDGE / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext('2d');
  if (!context) return file;
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b ?? file), 'image/jpeg', QUALITY));
}

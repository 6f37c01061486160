/** The size a sticker image is scaled to: the longer side becomes `side` px. */
export function stickerSize(w: number, h: number, side = 512): [number, number] {
  if (!w || !h) return [side, side];
  return w >= h ? [side, Math.max(1, Math.round((h * side) / w))] : [Math.max(1, Math.round((w * side) / h)), side];
}

/** Scale an image file to 512 px on its longer side and encode it as WebP (else PNG), under 500 KB. */
export async function toStickerImage(file: Blob, side = 512, maxBytes = 500 * 1024): Promise<Blob> {
  const bmp = await createImageBitmap(file);
  const [w, h] = stickerSize(bmp.width, bmp.height, side);
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bmp, 0, 0, w, h);
  bmp.close?.();
  const enc = (type: string, q?: number) => new Promise<Blob | null>((res) => canvas.toBlob(res, type, q));
  let best: Blob | null = await enc('image/png');
  if (best && best.size <= maxBytes) return best;
  for (const q of [0.92, 0.8, 0.6, 0.4]) {
    const b = await enc('image/webp', q);
    if (b && b.type === 'image/webp') {
      best = b;
      if (b.size <= maxBytes) return b;
    }
  }
  if (!best) throw new Error('could not encode the image');
  return best;
}

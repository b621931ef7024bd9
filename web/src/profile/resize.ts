/** The browser's half of the avatar size limit (the API reads the uploaded header and
 * refuses more than 256×256: servicedesk/attachments/avatars.py AVATAR_MAX_SIDE). */
export const AVATAR_SIDE = 256;

/** The size that fits within `max`×`max`, keeping the proportions (never upscaled). */
export function fitWithin(width: number, height: number, max = AVATAR_SIDE): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height, 1));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A picture ready to upload: drawn at most AVATAR_SIDE a side, as PNG when the source was
 * one (transparency), else WebP (a browser that cannot write WebP hands back PNG; the
 * blob's type says which). Rejects what the browser cannot decode as an image. */
export async function downscaleAvatar(file: Blob): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  try {
    const { width, height } = fitWithin(bitmap.width, bitmap.height);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    if (!context) throw new Error("no 2D canvas");
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    const type = file.type === "image/png" ? "image/png" : "image/webp";
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.9));
    if (!blob) throw new Error("the picture could not be encoded");
    return blob;
  } finally {
    bitmap.close();
  }
}

// Images checked in the browser before anything is uploaded, by the gateway's own rules
// (shared/spec/api.md): png, jpeg or webp judged by the bytes, at most 50 MB, width:height
// within 1:4..4:1; the two frames of a start-end video within 0.8..1.25 of each other.

export const MAX_IMAGE_BYTES = 50 * 1024 * 1024;

export interface Picked {
  file: File;
  type: "image/png" | "image/jpeg" | "image/webp";
  width: number;
  height: number;
  preview: string; // an object URL (blob:), allowed by the page's CSP for images only
  subject: string; // reference2video: the subject the image shows ("" for plain images)
}

function sniff(head: Uint8Array): Picked["type"] | null {
  const starts = (bytes: number[], at = 0): boolean => bytes.every((b, i) => head[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return null;
}

/** The image, measured, or the sentence that says why the gateway would refuse it. */
export async function pick(file: File): Promise<Picked | string> {
  if (file.size > MAX_IMAGE_BYTES) {
    return `${file.name}: ${(file.size / 1024 / 1024).toFixed(1)} MB, over the 50 MB an image may have`;
  }
  const type = sniff(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  if (type === null) return `${file.name}: not a png, jpeg or webp image`;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return `${file.name}: the image cannot be decoded`;
  }
  const { width, height } = bitmap;
  bitmap.close();
  const ratio = width / height;
  if (ratio < 0.25 || ratio > 4) {
    return `${file.name}: ${width}x${height}; width:height must lie within 1:4 and 4:1`;
  }
  return { file, type, width, height, preview: URL.createObjectURL(file), subject: "" };
}

/** Start-end frames must have nearly the same shape; null when they do. */
export function framesMismatch(images: Picked[]): string | null {
  const [first, last] = images;
  if (!first || !last) return null;
  const relative = first.width / first.height / (last.width / last.height);
  if (relative < 0.8 || relative > 1.25) {
    return "the first and last frames' width:height must be within 0.8..1.25 of each other";
  }
  return null;
}

export function dataUri(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("unreadable file"));
    reader.readAsDataURL(file);
  });
}

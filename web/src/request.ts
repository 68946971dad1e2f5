// What the form holds, and the request each mode sends: text and image videos go to
// POST /v1/videos as multipart (the image as a file part), start-end and reference videos
// to Vidu's routes, the only ones that take 2..7 images (as data URIs).

import type { Client, Endpoint, Mode, Model } from "./api";
import { dataUri, type Picked } from "./images";

export interface Draft {
  model: string;
  mode: Mode;
  prompt: string;
  duration: number;
  resolution: string;
  aspect_ratio: string;
  audio: boolean;
  bgm: boolean;
  off_peak: boolean;
  watermark: boolean;
  wm_position: number;
  seed: string;
  images: Picked[];
}

/** The resolutions the endpoint allows at this duration (its rules may narrow them). */
export function resolutionsFor(endpoint: Endpoint, duration: number): { allowed: string[]; default: string } {
  const rule = endpoint.resolutions.find((r) => r.durations.includes(duration)) ?? endpoint.resolutions[0];
  return rule ? { allowed: rule.allowed, default: rule.default } : { allowed: [], default: "" };
}

/** A draft fitted to a model and mode: values it does not accept replaced by its defaults. */
export function fit(draft: Draft, model: Model, mode: Mode): Draft {
  const endpoint = model.endpoints[mode];
  if (!endpoint) return { ...draft, model: model.id, mode };
  const duration = endpoint.durations.includes(draft.duration) ? draft.duration : endpoint.default_duration;
  const resolutions = resolutionsFor(endpoint, duration);
  const resolution = resolutions.allowed.includes(draft.resolution) ? draft.resolution : resolutions.default;
  const aspect_ratio = endpoint.aspect_ratios.includes(draft.aspect_ratio)
    ? draft.aspect_ratio
    : endpoint.default_aspect_ratio;
  const switched = draft.model !== model.id;
  return {
    ...draft,
    model: model.id,
    mode,
    duration,
    resolution,
    aspect_ratio,
    audio: switched ? model.audio_default : draft.audio,
    images: draft.images.slice(0, endpoint.images.max),
  };
}

function seedValue(seed: string): number | undefined {
  return seed.trim() === "" ? undefined : Number(seed);
}

/** The fields every mode sends, as JSON values; the frame's ratio only where it is chosen. */
function common(draft: Draft, model: Model): Record<string, string | number | boolean> {
  const endpoint = model.endpoints[draft.mode];
  const fields: Record<string, string | number | boolean> = {
    model: draft.model,
    prompt: draft.prompt,
    duration: draft.duration,
    resolution: draft.resolution,
  };
  if (endpoint?.frame === "aspect_ratio") fields.aspect_ratio = draft.aspect_ratio;
  fields.audio = draft.audio;
  if (!model.ignored_fields.includes("bgm")) fields.bgm = draft.bgm;
  if (draft.off_peak) fields.off_peak = true;
  if (draft.watermark) {
    fields.watermark = true;
    fields.wm_position = draft.wm_position;
  }
  const seed = seedValue(draft.seed);
  if (seed !== undefined) fields.seed = Number.isNaN(seed) ? draft.seed : seed;
  return fields;
}

/** The quote: /v1/videos' fields, and for the modes made on Vidu's routes, the mode and
 * how many images (the quote reads no image, so stand-ins name them). */
export function quoteRequest(draft: Draft, model: Model): { body: Record<string, unknown>; query: string } {
  const body: Record<string, unknown> = common(draft, model);
  // The price does not depend on the words: quote before any are written.
  if (draft.prompt.trim() === "") body.prompt = "quote";
  if (draft.mode === "img2video") body.images = "data:image/png;base64,iVBORw0KGgo=";
  if (draft.mode === "text2video" || draft.mode === "img2video") return { body, query: "" };
  const endpoint = model.endpoints[draft.mode];
  const count = Math.max(draft.images.length, endpoint?.images.min ?? 0);
  return { body, query: `?mode=${draft.mode}&image_count=${count}` };
}

/** Sends the draft; answers the new video's id. */
export async function submit(client: Client, draft: Draft, model: Model): Promise<string> {
  const fields = common(draft, model);
  if (draft.mode === "text2video" || draft.mode === "img2video") {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
    for (const image of draft.images) form.append("images", image.file, image.file.name);
    return (await client.create(form)).id;
  }
  const images = await Promise.all(draft.images.map((image) => dataUri(image.file)));
  const body: Record<string, unknown> = { ...fields };
  const named = draft.images.some((image) => image.subject.trim() !== "");
  if (draft.mode === "reference2video" && named) {
    // Subjects: the images grouped by the name given to each, in first-seen order.
    const subjects = new Map<string, string[]>();
    draft.images.forEach((image, i) => {
      const id = image.subject.trim() || `subject${i + 1}`;
      subjects.set(id, [...(subjects.get(id) ?? []), images[i] ?? ""]);
    });
    body.subjects = [...subjects].map(([id, uris]) => ({ id, images: uris }));
  } else {
    body.images = images;
  }
  return client.createVidu(draft.mode, body);
}

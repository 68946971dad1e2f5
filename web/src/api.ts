// The gateway's HTTP API as the playground uses it: typed answers, and every error turned
// into one ApiError carrying the API's own words (OpenAI's envelope under /v1, Vidu's under
// /vidu), so the page can show it next to the field it names.

export interface Range {
  min: number;
  max: number;
}

export interface ResolutionRule {
  durations: number[];
  allowed: string[];
  default: string;
}

export interface Endpoint {
  durations: number[];
  default_duration: number;
  resolutions: ResolutionRule[];
  frame: "aspect_ratio" | "image";
  aspect_ratios: string[];
  default_aspect_ratio: string;
  images: Range;
  max_prompt_chars: number;
}

export type Mode = "text2video" | "img2video" | "start-end2video" | "reference2video";

export interface Model {
  id: string;
  description: string;
  audio_default: boolean;
  modes: Mode[];
  ignored_fields: string[];
  endpoints: Partial<Record<Mode, Endpoint>>;
}

export interface Price {
  amount: string;
  currency: string;
  state: "reserved" | "settled" | "refunded";
  charged: string | null;
}

export type Status = "queued" | "processing" | "in_progress" | "completed" | "failed" | "cancelled";

export interface Video {
  id: string;
  model: string;
  status: Status;
  progress: number;
  created_at: number;
  size: string;
  seconds: string;
  prompt: string;
  seed: number;
  video_url: string | null;
  thumbnail_url: string | null;
  spritesheet_url: string | null;
  error: { code: string; message: string } | null;
  price: Price | null;
}

export interface VideoList {
  data: Video[];
  last_id: string | null;
  has_more: boolean;
}

export interface Quote {
  mode: string;
  duration: number;
  resolution: string;
  price: { amount: string; currency: string } | null;
}

export interface Balance {
  tenant_id: string;
  balance: string;
  overdraft: string;
  currency: string | null;
  spend_cap: string | null;
  spent: string;
}

export interface Usage {
  currency: string | null;
  totals: { videos: number; charged_amount: string; refunded_amount: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export const FINISHED: ReadonlySet<Status> = new Set(["completed", "failed", "cancelled"]);

interface OpenAiEnvelope {
  error?: { message?: string; param?: string | null; code?: string | null };
}
interface ViduEnvelope {
  reason?: string;
  message?: string;
  metadata?: { trace_id?: string; param?: string }; // param: the gateway's addition
}

async function failure(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    return new ApiError(response.status, `${response.status} ${response.statusText}`, null, null);
  }
  const openai = (body as OpenAiEnvelope).error;
  if (openai && typeof openai === "object") {
    const message = openai.message ?? `${response.status}`;
    return new ApiError(response.status, message, openai.param ?? null, openai.code ?? null);
  }
  const vidu = body as ViduEnvelope;
  const param = vidu.metadata?.param ?? null;
  return new ApiError(response.status, vidu.message ?? `${response.status}`, param, vidu.reason ?? null);
}

/** One request with the key as its only credential; a non-2xx answer is thrown as ApiError. */
export async function send(
  key: string,
  method: string,
  path: string,
  body?: BodyInit,
  type?: string,
): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
  if (type) headers["Content-Type"] = type;
  const response = await fetch(path, { method, headers, body, credentials: "omit" });
  if (!response.ok) throw await failure(response);
  return response;
}

export class Client {
  constructor(private readonly key: string) {}

  private async call<T>(method: string, path: string, body?: BodyInit, json = false): Promise<T> {
    const response = await send(this.key, method, path, body, json ? "application/json" : undefined);
    return (await response.json()) as T;
  }

  models(): Promise<{ data: Model[] }> {
    return this.call("GET", "v1/models");
  }
  create(form: FormData): Promise<Video> {
    return this.call("POST", "v1/videos", form);
  }
  /** Start-end and reference videos: Vidu's routes take 2..7 images (JSON, data URIs). */
  async createVidu(mode: Mode, body: Record<string, unknown>): Promise<string> {
    const answer = await this.call<{ task_id: string }>(
      "POST",
      `vidu/ent/v2/${mode}`,
      JSON.stringify(body),
      true,
    );
    return answer.task_id;
  }
  quote(body: Record<string, unknown>, query = ""): Promise<Quote> {
    return this.call("POST", `v1/videos/quote${query}`, JSON.stringify(body), true);
  }
  video(id: string): Promise<Video> {
    return this.call("GET", `v1/videos/${encodeURIComponent(id)}`);
  }
  list(after?: string): Promise<VideoList> {
    const query = after ? `&after=${encodeURIComponent(after)}` : "";
    return this.call("GET", `v1/videos?limit=12${query}`);
  }
  cancel(id: string): Promise<Video> {
    return this.call("POST", `v1/videos/${encodeURIComponent(id)}/cancel`);
  }
  remove(id: string): Promise<unknown> {
    return this.call("DELETE", `v1/videos/${encodeURIComponent(id)}`);
  }
  balance(): Promise<Balance> {
    return this.call("GET", "v1/balance");
  }
  usage(): Promise<Usage> {
    return this.call("GET", "v1/usage");
  }
}

/** A price as people read it: "0.40 USD", or a dash when nothing is charged. */
export function money(amount: string | null | undefined, currency: string | null | undefined): string {
  if (amount == null) return "—";
  return currency ? `${amount} ${currency}` : amount;
}

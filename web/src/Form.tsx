// The create form: it offers only what GET /v1/models says the chosen model and mode accept,
// checks images before upload, shows the price quote, and puts each API error next to the
// field it names (`param`), or above the button when it names none.

import { useEffect, useState } from "preact/hooks";
import type { JSX } from "preact";
import { ApiError, type Client, type Mode, type Model, money } from "./api";
import { framesMismatch, pick } from "./images";
import { type Draft, fit, quoteRequest, resolutionsFor, submit } from "./request";

const MODE_NAMES: Record<Mode, string> = {
  text2video: "Text",
  img2video: "Image",
  "start-end2video": "Start–end",
  "reference2video": "Reference",
};

const ORDER = Object.keys(MODE_NAMES) as Mode[];

export type Errors = Record<string, string>;

/** The form field an API `param` names: `images[0]`, `body.images.0` and aliases map home. */
export function fieldOf(param: string | null): string {
  if (!param) return "form";
  const head = param.replace(/^body\./, "").split(/[.[]/)[0] ?? param;
  const aliases: Record<string, string> = {
    seconds: "duration",
    size: "resolution",
    input_reference: "images",
    subjects: "images",
  };
  return aliases[head] ?? head;
}

export function FieldError(props: { errors: Errors; name: string }): JSX.Element | null {
  const message = props.errors[props.name];
  if (!message) return null;
  return (
    <p class="field-error" role="alert" data-field={props.name} id={`error-${props.name}`}>
      {message}
    </p>
  );
}

interface Props {
  client: Client;
  models: Model[];
  onCreated: (id: string) => void;
}

export function CreateForm({ client, models, onCreated }: Props): JSX.Element {
  const first = models[0];
  const [draft, setDraft] = useState<Draft>(() =>
    fit(
      {
        model: "",
        mode: "text2video",
        prompt: "",
        duration: 5,
        resolution: "",
        aspect_ratio: "",
        audio: false,
        bgm: false,
        off_peak: false,
        watermark: false,
        wm_position: 3,
        seed: "",
        images: [],
      },
      first!,
      first!.modes.includes("text2video") ? "text2video" : first!.modes[0]!,
    ),
  );
  const [errors, setErrors] = useState<Errors>({});
  const [quote, setQuote] = useState<string>("…");
  const [busy, setBusy] = useState(false);
  const model = models.find((m) => m.id === draft.model) ?? first!;
  const endpoint = model.endpoints[draft.mode]!;
  const resolutions = resolutionsFor(endpoint, draft.duration);

  const update = (change: Partial<Draft>): void => {
    setDraft(fit({ ...draft, ...change }, model, change.mode ?? draft.mode));
    const cleared = { ...errors };
    for (const name of Object.keys(change)) delete cleared[name];
    delete cleared.form;
    setErrors(cleared);
  };

  // The quote follows the form; an error in it is shown where a create's would be.
  useEffect(() => {
    const { body, query } = quoteRequest(draft, model);
    let live = true;
    const timer = window.setTimeout(() => {
      client.quote(body, query).then(
        (q) => live && setQuote(q.price ? money(q.price.amount, q.price.currency) : "free (no price table)"),
        (e: unknown) => live && setQuote(e instanceof ApiError ? `— (${e.message})` : "—"),
      );
    }, 250);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [draft.model, draft.mode, draft.duration, draft.resolution, draft.aspect_ratio, draft.audio,
      draft.off_peak, draft.images.length]);

  const addImages = async (files: FileList | null): Promise<void> => {
    if (!files) return;
    const picked = [...draft.images];
    const problems: string[] = [];
    for (const file of Array.from(files)) {
      const result = await pick(file);
      if (typeof result === "string") problems.push(result);
      else picked.push(result);
    }
    if (picked.length > endpoint.images.max) {
      problems.push(`${MODE_NAMES[draft.mode]} takes at most ${endpoint.images.max} image(s)`);
    }
    const images = picked.slice(0, endpoint.images.max);
    setDraft({ ...draft, images });
    const mismatch = draft.mode === "start-end2video" ? framesMismatch(images) : null;
    if (mismatch) problems.push(mismatch);
    setErrors(problems.length ? { ...errors, images: problems.join("; ") } : omit(errors, "images"));
  };

  const onSubmit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const local: Errors = {};
    if (draft.images.length < endpoint.images.min) {
      local.images = `${MODE_NAMES[draft.mode]} needs ${endpoint.images.min === endpoint.images.max ? "" : "at least "}${endpoint.images.min} image(s)`;
    } else if (draft.mode === "start-end2video" && framesMismatch(draft.images)) {
      local.images = framesMismatch(draft.images)!;
    }
    if (Object.keys(local).length) return setErrors(local);
    setBusy(true);
    setErrors({});
    try {
      onCreated(await submit(client, draft, model));
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(0, String(e), null, null);
      const field = fieldOf(error.param);
      const known = field !== "form" && document.getElementById(`field-${field}`) !== null;
      setErrors({ [known ? field : "form"]: error.message });
    } finally {
      setBusy(false);
    }
  };

  const images = endpoint.images.max > 0;
  return (
    <form class="card create" onSubmit={onSubmit} noValidate>
      <h2>New video</h2>
      <div class="row">
        <label id="field-model">
          Model
          <select name="model" value={draft.model} onChange={(e) => {
            const next = models.find((m) => m.id === e.currentTarget.value)!;
            const mode = next.modes.includes(draft.mode) ? draft.mode : next.modes.includes("text2video") ? "text2video" : next.modes[0]!;
            setDraft(fit(draft, next, mode));
            setErrors({});
          }}>
            {models.map((m) => <option value={m.id}>{m.id}</option>)}
          </select>
          <FieldError errors={errors} name="model" />
        </label>
        <fieldset class="modes" id="field-mode">
          <legend>Mode</legend>
          {ORDER.filter((mode) => model.modes.includes(mode)).map((mode) => (
            <label class="chip">
              <input type="radio" name="mode" value={mode} checked={draft.mode === mode}
                onChange={() => update({ mode })} />
              {MODE_NAMES[mode]}
            </label>
          ))}
        </fieldset>
      </div>
      <p class="hint">{model.description}</p>
      <label id="field-prompt">
        Prompt
        <textarea name="prompt" rows={3} maxLength={endpoint.max_prompt_chars} value={draft.prompt}
          placeholder="A paper boat drifting down a river at dawn"
          onInput={(e) => update({ prompt: e.currentTarget.value })} />
        <span class="hint">{draft.prompt.length} / {endpoint.max_prompt_chars}</span>
        <FieldError errors={errors} name="prompt" />
      </label>
      {images && (
        <div id="field-images" class="images">
          <label class="drop" onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => { e.preventDefault(); void addImages(e.dataTransfer?.files ?? null); }}>
            <span>
              {draft.mode === "start-end2video" ? "First and last frame" : "Images"} ({endpoint.images.min}–{endpoint.images.max}):
              drop here or pick
            </span>
            <input type="file" name="images" accept="image/png,image/jpeg,image/webp" multiple
              onChange={(e) => { void addImages(e.currentTarget.files); e.currentTarget.value = ""; }} />
          </label>
          <ul class="previews">
            {draft.images.map((image, i) => (
              <li>
                <img src={image.preview} alt={image.file.name} />
                <span class="hint">{image.width}×{image.height}</span>
                {draft.mode === "reference2video" && (
                  <input class="subject" placeholder="subject (optional)" value={image.subject}
                    onInput={(e) => {
                      const next = draft.images.map((im, j) => (j === i ? { ...im, subject: e.currentTarget.value } : im));
                      setDraft({ ...draft, images: next });
                    }} />
                )}
                <button type="button" class="link" onClick={() => {
                  URL.revokeObjectURL(image.preview);
                  update({ images: draft.images.filter((_, j) => j !== i) });
                }}>
                  remove
                </button>
              </li>
            ))}
          </ul>
          <FieldError errors={errors} name="images" />
        </div>
      )}
      <div class="row">
        <Choice name="duration" label="Duration (s)" value={String(draft.duration)} errors={errors}
          options={endpoint.durations.map(String)} pick={(v) => update({ duration: Number(v) })} />
        <Choice name="resolution" label="Resolution" value={draft.resolution} errors={errors}
          options={resolutions.allowed} pick={(v) => update({ resolution: v })} />
        {endpoint.frame === "aspect_ratio" && (
          <Choice name="aspect_ratio" label="Aspect ratio" value={draft.aspect_ratio} errors={errors}
            options={endpoint.aspect_ratios} pick={(v) => update({ aspect_ratio: v })} />
        )}
        <label id="field-seed">
          Seed
          <input name="seed" inputMode="numeric" placeholder="random" value={draft.seed}
            onInput={(e) => update({ seed: e.currentTarget.value })} />
          <FieldError errors={errors} name="seed" />
        </label>
      </div>
      <div class="row flags">
        <Flag name="audio" label="Audio" draft={draft} update={update} errors={errors} />
        {!model.ignored_fields.includes("bgm") && (
          <Flag name="bgm" label="Background music" draft={draft} update={update} errors={errors} />
        )}
        <Flag name="off_peak" label="Off-peak" draft={draft} update={update} errors={errors} />
        <Flag name="watermark" label="Watermark" draft={draft} update={update} errors={errors} />
        {draft.watermark && (
          <label id="field-wm_position">
            Mark at
            <select name="wm_position" value={String(draft.wm_position)}
              onChange={(e) => update({ wm_position: Number(e.currentTarget.value) })}>
              <option value="1">top left</option>
              <option value="2">top right</option>
              <option value="3">bottom right</option>
              <option value="4">bottom left</option>
            </select>
          </label>
        )}
      </div>
      <FieldError errors={errors} name="form" />
      <div class="row submit">
        <span class="quote">Price: <strong data-testid="quote">{quote}</strong></span>
        <button type="submit" disabled={busy}>{busy ? "Sending…" : "Generate"}</button>
      </div>
    </form>
  );
}

/** A select of the values the model accepts, with the API's error for that field. */
function Choice(props: {
  name: string;
  label: string;
  value: string;
  options: string[];
  pick: (value: string) => void;
  errors: Errors;
}): JSX.Element {
  return (
    <label id={`field-${props.name}`}>
      {props.label}
      <select name={props.name} value={props.value} onChange={(e) => props.pick(e.currentTarget.value)}>
        {props.options.map((o) => <option value={o}>{o}</option>)}
      </select>
      <FieldError errors={props.errors} name={props.name} />
    </label>
  );
}

type FlagName = "audio" | "bgm" | "off_peak" | "watermark";

function Flag(props: {
  name: FlagName;
  label: string;
  draft: Draft;
  update: (change: Partial<Draft>) => void;
  errors: Errors;
}): JSX.Element {
  return (
    <label class="flag" id={`field-${props.name}`}>
      <input type="checkbox" name={props.name} checked={props.draft[props.name]}
        onChange={(e) => props.update({ [props.name]: e.currentTarget.checked })} />
      {props.label}
      <FieldError errors={props.errors} name={props.name} />
    </label>
  );
}

function omit(errors: Errors, name: string): Errors {
  const rest = { ...errors };
  delete rest[name];
  return rest;
}

// The console's small parts: loading an answer, a form whose API errors land next to the
// field they name (`error.param`, as the playground's create form), a two-click button for
// what cannot be undone, times and badges.

import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { fieldOf } from "../Form";

export function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, String(e), null, null);
}

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  reload: () => void;
}

/** The answer of `load`, read again when a dependency changes or reload() is called. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (answer) => { if (live) { setData(answer); setError(null); } },
      (e: unknown) => { if (live) setError(asApiError(e)); },
    );
    return () => { live = false; };
  }, [...deps, round]);
  return { data, error, reload: () => setRound((r) => r + 1) };
}

/** `reload` every `ms` while the page is shown (tries and changes land as they are made). */
export function usePoll(reload: () => void, ms: number, deps: unknown[]): void {
  useEffect(() => {
    const timer = window.setInterval(reload, ms);
    return () => window.clearInterval(timer);
  }, deps);
}

export function Problem(props: { error: ApiError | null; id?: string }): JSX.Element | null {
  if (!props.error) return null;
  return <p class="field-error" role="alert" id={props.id}>{props.error.message}</p>;
}

/** What a page shows while its answer comes: the answer, or the API's words. */
export function Show<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }): JSX.Element {
  const { data, error } = props.loaded;
  if (error) return <Problem error={error} />;
  if (data === null) return <p class="hint">Loading…</p>;
  return <>{props.children(data)}</>;
}

export interface FieldSpec {
  name: string;
  label: string;
  value?: string;
  placeholder?: string;
  type?: "text" | "number" | "textarea" | "date";
  options?: [string, string][]; // a select: [value, label]
}

interface FormProps {
  name: string;
  fields: FieldSpec[];
  submit: string;
  /** Sends the values; may answer a line to show after it worked. */
  onSubmit: (values: Record<string, string>) => Promise<string | void>;
  /** An edit form: the values stay after they are saved (a new entry's form is emptied). */
  keep?: boolean;
  children?: ComponentChildren;
}

/** A form that sends its values and shows each API error under the field it names. */
export function ActionForm(props: FormProps): JSX.Element {
  const initial = (): Record<string, string> =>
    Object.fromEntries(props.fields.map((f) => [f.name, f.value ?? f.options?.[0]?.[0] ?? ""]));
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const names = new Set(props.fields.map((f) => f.name));

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setDone("");
    try {
      setDone((await props.onSubmit(values)) ?? "");
      setErrors({});
      if (!props.keep) setValues(initial());
    } catch (caught) {
      const error = asApiError(caught);
      const field = fieldOf(error.param);
      setErrors({ [names.has(field) ? field : "form"]: error.message });
    } finally {
      setBusy(false);
    }
  };
  const edit = (name: string, value: string): void => {
    setValues({ ...values, [name]: value });
    const { [name]: _gone, form: _form, ...rest } = errors;
    setErrors(rest);
  };

  return (
    <form class="action" data-form={props.name} onSubmit={submit}>
      <div class="row">
        {props.fields.map((f) => (
          <label key={f.name} data-field={f.name} class={f.type === "textarea" ? "wide" : ""}>
            {f.label}
            <Input spec={f} value={values[f.name] ?? ""} onValue={(v) => edit(f.name, v)} />
            {errors[f.name] && <span class="field-error" role="alert">{errors[f.name]}</span>}
          </label>
        ))}
        <button type="submit" disabled={busy}>{props.submit}</button>
      </div>
      {props.children}
      {errors.form && <p class="field-error" role="alert" data-field="form">{errors.form}</p>}
      {done && <p class="done" role="status">{done}</p>}
    </form>
  );
}

function Input(props: { spec: FieldSpec; value: string; onValue: (v: string) => void }): JSX.Element {
  const { spec } = props;
  const onInput = (e: { currentTarget: { value: string } }): void => props.onValue(e.currentTarget.value);
  if (spec.options) {
    return (
      <select name={spec.name} value={props.value} onInput={onInput}>
        {spec.options.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
      </select>
    );
  }
  if (spec.type === "textarea") {
    return <textarea name={spec.name} rows={14} spellcheck={false} value={props.value} onInput={onInput} />;
  }
  return (
    <input name={spec.name} type={spec.type === "date" ? "date" : "text"} placeholder={spec.placeholder}
      inputMode={spec.type === "number" ? "decimal" : undefined} value={props.value} onInput={onInput} />
  );
}

/** A button for what cannot be undone: the first click asks, the second does it. */
export function DangerButton(props: { label: string; onConfirm: () => Promise<void> }): JSX.Element {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  if (!asking) return <button type="button" class="link danger" onClick={() => setAsking(true)}>{props.label}</button>;
  const confirm = (): void => {
    props.onConfirm().then(() => setAsking(false), (e: unknown) => setError(asApiError(e)));
  };
  return (
    <span class="confirm">
      <button type="button" class="link danger" onClick={confirm}>{`${props.label}: sure`}</button>
      <button type="button" class="link" onClick={() => setAsking(false)}>keep</button>
      <Problem error={error} />
    </span>
  );
}

/** A unix time as UTC, to the second. */
export function when(seconds: number | null | undefined): string {
  if (seconds == null) return "—";
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19);
}

export function Badge(props: { word: string }): JSX.Element {
  return <span class={`badge ${props.word}`}>{props.word}</span>;
}

/** A number as the API wants it: digits as a JSON number, anything else as sent (the API
 * then names the field), empty as null. */
export function intOrNull(text: string): number | string | null {
  const t = text.trim();
  if (t === "") return null;
  return /^\d+$/.test(t) ? Number(t) : t;
}

export function textOrNull(text: string): string | null {
  return text.trim() === "" ? null : text.trim();
}

/** A secret the API shows this once (a key's token, an endpoint's signing secret). */
export function ShownOnce(props: { label: string; value: string; testid: string }): JSX.Element {
  const [copied, setCopied] = useState(false);
  const copy = (): void => {
    navigator.clipboard.writeText(props.value).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <div class="token" role="status">
      <p>{props.label}</p>
      <code data-testid={props.testid}>{props.value}</code>
      <button type="button" onClick={copy}>{copied ? "Copied" : "Copy"}</button>
    </div>
  );
}

export function Card(props: { title: string; children: ComponentChildren; testid?: string }): JSX.Element {
  return (
    <section class="card" data-testid={props.testid}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

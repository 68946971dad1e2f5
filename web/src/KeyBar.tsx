// The key bar of the playground and the console: a key pasted once, kept in this browser's
// localStorage under the page's own name, and sent only as the Authorization header of the
// page's same-origin requests; the API's refusal shown under it.

import type { JSX } from "preact";
import { useState } from "preact/hooks";

/** The key kept under `name` in localStorage, and the setter that keeps (or forgets) it. */
export function useStoredKey(name: string): [string, (key: string) => void] {
  const [key, setKey] = useState(() => localStorage.getItem(name) ?? "");
  const keep = (next: string): void => {
    if (next) localStorage.setItem(name, next);
    else localStorage.removeItem(name);
    setKey(next);
  };
  return [key, keep];
}

interface Props {
  label: string;
  placeholder: string;
  keyValue: string;
  onKey: (key: string) => void;
  error: string;
}

export function KeyBar(props: Props): JSX.Element {
  const [draft, setDraft] = useState(props.keyValue);
  return (
    <form class="keybar" onSubmit={(e) => { e.preventDefault(); props.onKey(draft.trim()); }}>
      <label id="field-key">
        {props.label}
        <input name="key" type="password" autoComplete="off" spellcheck={false} placeholder={props.placeholder}
          value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
      </label>
      <button type="submit">Use key</button>
      {props.keyValue && (
        <button type="button" class="link" onClick={() => { setDraft(""); props.onKey(""); }}>Forget</button>
      )}
      {props.error && <p class="field-error" role="alert" id="error-key">{props.error}</p>}
    </form>
  );
}

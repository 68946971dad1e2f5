// The playground at /: a key pasted once (kept in this browser's localStorage, sent only as
// the Authorization header of the page's own same-origin requests), then the create form,
// the video being watched, the history, and the key's balance and usage.

import { render } from "preact";
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, type Balance, Client, type Model, type Usage, money } from "./api";
import { CreateForm } from "./Form";
import { KeyBar, useStoredKey } from "./KeyBar";
import { History, Watch, useVideo } from "./Videos";
import "./style.css";

const KEY_STORE = "vidugate.key";

function Account(props: { client: Client; version: number }): JSX.Element {
  const [balance, setBalance] = useState<Balance | null>(null);
  const [usage, setUsage] = useState<Usage | null>(null);
  useEffect(() => {
    props.client.balance().then(setBalance, () => setBalance(null));
    props.client.usage().then(setUsage, () => setUsage(null));
  }, [props.client, props.version]);
  return (
    <section class="card account">
      <h2>Account</h2>
      {balance && (
        <dl>
          <dt>Balance</dt>
          <dd data-testid="balance">{money(balance.balance, balance.currency)}</dd>
          <dt>Spent by this key</dt>
          <dd>{money(balance.spent, balance.currency)}{balance.spend_cap ? ` of ${money(balance.spend_cap, balance.currency)}` : ""}</dd>
          {usage && (
            <>
              <dt>Videos</dt>
              <dd data-testid="usage-videos">{usage.totals.videos}</dd>
              <dt>Charged</dt>
              <dd>{money(usage.totals.charged_amount, usage.currency)}</dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}

function App(): JSX.Element {
  const [key, setKey] = useStoredKey(KEY_STORE);
  const [models, setModels] = useState<Model[] | null>(null);
  const [keyError, setKeyError] = useState("");
  const [watching, setWatching] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const client = useMemo(() => new Client(key), [key]);
  const changed = (): void => setVersion((v) => v + 1);
  const video = useVideo(client, watching, changed);

  useEffect(() => {
    setModels(null);
    setWatching(null);
    if (!key) return;
    client.models().then(
      (answer) => { setModels(answer.data); setKeyError(""); },
      (e: unknown) => setKeyError(e instanceof ApiError ? e.message : String(e)),
    );
  }, [client]);

  const useKey = (next: string): void => {
    setKeyError("");
    setKey(next);
  };

  return (
    <>
      <header>
        <h1>vidugate <span>playground</span></h1>
        <nav><a href="docs">API docs</a></nav>
      </header>
      <KeyBar label="API key" placeholder="vg-..." keyValue={key} onKey={useKey} error={keyError} />
      {!key && (
        <p class="card hint">
          Paste a key: <code>uv run vidugate serve</code> prints one on its first start, and{" "}
          <code>uv run vidugate keys create --name NAME</code> makes more. It stays in this browser.
        </p>
      )}
      {key && models && (
        <main>
          <div class="column">
            <CreateForm client={client} models={models} onCreated={(id) => { setWatching(id); changed(); }} />
            <Account client={client} version={version} />
          </div>
          <div class="column">
            <Watch video={video} />
            <History client={client} version={version} watching={watching} onWatch={setWatching} onChange={changed} />
          </div>
        </main>
      )}
    </>
  );
}

render(<App />, document.getElementById("app")!);

// The console at /console: the operator's pages on the admin API (/admin/v1). An admin key
// (vga-..., `vidugate keys create --admin`) is pasted once and kept in this browser's
// localStorage under its own name; a client key gets the API's 401 in its words. Pages are
// chosen by the URL's hash (#/tenants/ID), from the nav on the left.

import { render } from "preact";
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { KeyBar, useStoredKey } from "../KeyBar";
import { Admin } from "./admin";
import { Keys, KeyPage } from "./Keys";
import { Overview } from "./Overview";
import { Prices } from "./Prices";
import { TaskPage, Tasks } from "./Tasks";
import { TenantPage, Tenants } from "./Tenants";
import { Upstream } from "./Upstream";
import { Usage } from "./Usage";
import { EndpointPage, Webhooks } from "./Webhooks";
import { asApiError } from "./ui";
import "../style.css";
import "./console.css";

const KEY_STORE = "vidugate.adminKey";

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function readHash(): Route {
  const [path = "", query = ""] = location.hash.replace(/^#\/?/, "").split("?", 2);
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

function useRoute(): Route {
  const [route, setRoute] = useState(readHash);
  useEffect(() => {
    const changed = (): void => setRoute(readHash());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

const PAGES: [string, string][] = [
  ["", "Overview"],
  ["tenants", "Tenants"],
  ["keys", "Keys"],
  ["prices", "Prices"],
  ["tasks", "Tasks"],
  ["upstream", "Upstream"],
  ["usage", "Usage"],
  ["webhooks", "Webhooks"],
];

function Page(props: { admin: Admin; route: Route }): JSX.Element {
  const { admin, route } = props;
  const [page = "", id] = route.parts;
  switch (page) {
    case "tenants":
      return id ? <TenantPage admin={admin} id={id} /> : <Tenants admin={admin} />;
    case "keys":
      return id ? <KeyPage admin={admin} id={id} /> : <Keys admin={admin} />;
    case "prices":
      return <Prices admin={admin} />;
    case "tasks":
      return id ? <TaskPage admin={admin} id={id} /> : <Tasks admin={admin} query={route.query} />;
    case "upstream":
      return <Upstream admin={admin} />;
    case "usage":
      return <Usage admin={admin} />;
    case "webhooks":
      return id ? <EndpointPage admin={admin} id={id} /> : <Webhooks admin={admin} />;
    default:
      return <Overview admin={admin} />;
  }
}

function App(): JSX.Element {
  const [key, setKey] = useStoredKey(KEY_STORE);
  const [keyError, setKeyError] = useState("");
  const [accepted, setAccepted] = useState(false);
  const admin = useMemo(() => new Admin(key), [key]);
  const route = useRoute();

  // The key is tried on the admin API once: a client key's 401 is shown in the API's words.
  useEffect(() => {
    setAccepted(false);
    setKeyError("");
    if (!key) return;
    admin.tenants().then(
      () => setAccepted(true),
      (e: unknown) => setKeyError(asApiError(e).message),
    );
  }, [admin]);

  const here = route.parts[0] ?? "";
  return (
    <>
      <header>
        <h1>vidugate <span>console</span></h1>
        <nav><a href="./">Playground</a> · <a href="docs">API docs</a></nav>
      </header>
      <KeyBar label="Admin key" placeholder="vga-..." keyValue={key} onKey={setKey} error={keyError} />
      {!key && (
        <p class="card hint">
          Paste an admin key: <code>uv run vidugate keys create --admin --name NAME</code> makes one.
          It stays in this browser and is sent only to this gateway's admin API.
        </p>
      )}
      {accepted && (
        <div class="console">
          <nav class="side" aria-label="Console">
            {PAGES.map(([path, name]) => (
              <a key={path} href={`#/${path}`} class={here === path ? "here" : ""}>{name}</a>
            ))}
          </nav>
          <main class="page">
            <Page admin={admin} route={route} />
          </main>
        </div>
      )}
    </>
  );
}

render(<App />, document.getElementById("app")!);

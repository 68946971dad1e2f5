// Webhook endpoints across tenants: made for a tenant (its signing secret shown once),
// disabled or enabled, deleted; an endpoint's delivery log, newest try first, read again
// every few seconds, with each message sent again on demand (docs/webhooks.md).

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { ApiError } from "../api";
import type { Admin, WebhookEndpoint } from "./admin";
import { ForTenantForm } from "./Tenants";
import { Badge, Card, DangerButton, Problem, Show, ShownOnce, asApiError, useLoad, usePoll, when } from "./ui";

const endpointPath = (id: string): string => `webhooks/endpoints/${encodeURIComponent(id)}`;

export function Webhooks(props: { admin: Admin }): JSX.Element {
  const { admin } = props;
  const endpoints = useLoad(() => admin.endpoints(), [admin]);
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const create = async (v: Record<string, string>): Promise<string> => {
    const events = (v.events ?? "").split(/[\s,]+/).filter(Boolean);
    const made = await admin.call<WebhookEndpoint & { secret: string }>(
      "POST",
      `tenants/${encodeURIComponent(v.tenant_id ?? "")}/webhooks/endpoints`,
      { url: v.url, description: v.description, ...(events.length ? { events } : {}) },
    );
    setSecret(made.secret);
    endpoints.reload();
    return `Made ${made.id}.`;
  };
  const change = (e: WebhookEndpoint, disabled: boolean): void => {
    admin.call("PATCH", endpointPath(e.id), { disabled }).then(
      () => { setError(null); endpoints.reload(); },
      (caught: unknown) => setError(asApiError(caught)),
    );
  };
  const remove = async (e: WebhookEndpoint): Promise<void> => {
    await admin.call("DELETE", endpointPath(e.id));
    endpoints.reload();
  };
  return (
    <>
      <h2>Webhooks</h2>
      <Card title="New endpoint">
        <ForTenantForm admin={admin} name="create-endpoint" submit="Create endpoint" onSubmit={create} fields={[
          { name: "url", label: "URL", placeholder: "your receiver's http(s) URL" },
          { name: "events", label: "Events (empty: all)", placeholder: "video.completed video.failed" },
          { name: "description", label: "Description" },
        ]}>
          {secret && <ShownOnce label="Its signing secret, shown this once:" value={secret} testid="secret" />}
        </ForTenantForm>
      </Card>
      <Problem error={error} />
      <Show loaded={endpoints}>
        {({ data }) => data.length === 0 ? <p class="hint">No endpoints.</p> : (
          <table class="list" data-testid="endpoints">
            <thead><tr><th>Endpoint</th><th>Tenant</th><th>URL</th><th>Events</th><th>State</th><th /></tr></thead>
            <tbody>
              {data.map((e) => (
                <tr key={e.id} data-endpoint={e.id}>
                  <td><a href={`#/webhooks/${encodeURIComponent(e.id)}`}><code>{e.id}</code></a>
                    {e.description && <div class="meta">{e.description}</div>}</td>
                  <td>{e.tenant_id}</td><td class="url">{e.url}</td>
                  <td>{e.events.join(", ")}</td>
                  <td><Badge word={e.disabled ? "disabled" : "enabled"} /></td>
                  <td class="acts">
                    <button type="button" class="link" onClick={() => change(e, !e.disabled)}>
                      {e.disabled ? "enable" : "disable"}
                    </button>
                    <DangerButton label="delete" onConfirm={() => remove(e)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </>
  );
}

export function EndpointPage(props: { admin: Admin; id: string }): JSX.Element {
  const { admin, id } = props;
  const endpoint = useLoad(() => admin.get<WebhookEndpoint>(endpointPath(id)), [admin, id]);
  const log = useLoad(() => admin.deliveries(id), [admin, id]);
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  usePoll(log.reload, 2000, [admin, id]);
  const redeliver = (message: string): void => {
    admin.redeliver(message).then(
      () => { setNote(`${message} is being sent again.`); setError(null); log.reload(); },
      (e: unknown) => setError(asApiError(e)),
    );
  };
  return (
    <>
      <h2><a href="#/webhooks">Webhooks</a> / <code>{id}</code></h2>
      <Show loaded={endpoint}>
        {(e) => (
          <p class="meta">{e.url} · tenant {e.tenant_id} · {e.events.join(", ")} · {e.disabled ? "disabled" : "enabled"}</p>
        )}
      </Show>
      {note && <p class="done" role="status">{note}</p>}
      <Problem error={error} />
      <Card title="Delivery log (newest try first)">
        <Show loaded={log}>
          {({ data }) => data.length === 0 ? <p class="hint">Nothing delivered yet.</p> : (
            <table class="list" data-testid="deliveries">
              <thead><tr><th>When</th><th>Message</th><th>Event</th><th>Task</th><th class="num">Try</th>
                <th>Answer</th><th class="num">ms</th><th /></tr></thead>
              <tbody>
                {data.map((a) => (
                  <tr key={`${a.message_id}/${a.attempt}/${a.at}`} data-message={a.message_id} data-attempt={a.attempt}>
                    <td class="when">{when(a.at)}</td><td><code>{a.message_id}</code></td><td>{a.event}</td>
                    <td><a href={`#/tasks/${encodeURIComponent(a.task_id)}`}><code>{a.task_id}</code></a></td>
                    <td class="num">{a.attempt}</td>
                    <td>{a.status !== null ? <Badge word={String(a.status)} /> : "no answer"}{a.error && <div class="meta">{a.error}</div>}</td>
                    <td class="num">{a.duration_ms}</td>
                    <td><button type="button" class="link" onClick={() => redeliver(a.message_id)}>redeliver</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Show>
      </Card>
    </>
  );
}

// Tasks across tenants, filtered (the filters live in the URL: #/tasks?tenant_id=...), older
// pages on demand; a task's timeline: its transitions, upstream calls, ledger rows and webhook
// messages in time order, a message sent again from there.

import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { money } from "../api";
import type { Admin, Task, TimelineEvent } from "./admin";
import { useTenantOptions } from "./Tenants";
import { ActionForm, Badge, Card, Problem, Show, asApiError, useLoad, usePoll, when } from "./ui";
import type { ApiError } from "../api";

const FILTERS = ["tenant_id", "key_id", "model", "status", "created_after", "created_before"] as const;
const STATUSES: [string, string][] = [
  ["", "any"], ["queued", "queued"], ["processing", "processing"],
  ["completed", "completed"], ["failed", "failed"], ["cancelled", "cancelled"],
];

export function TaskTable(props: { tasks: Task[] }): JSX.Element {
  if (props.tasks.length === 0) return <p class="hint">No tasks.</p>;
  return (
    <table class="list" data-testid="tasks">
      <thead><tr><th>Task</th><th>Tenant</th><th>Key</th><th>Model</th><th>Status</th>
        <th class="num">Price</th><th>Created</th><th>Finished</th></tr></thead>
      <tbody>
        {props.tasks.map((t) => (
          <tr key={t.id} data-task={t.id} data-tenant={t.tenant_id ?? ""}>
            <td><a href={`#/tasks/${encodeURIComponent(t.id)}`}><code>{t.id}</code></a>{t.deleted ? " (deleted)" : ""}</td>
            <td>{t.tenant_id}</td><td><code>{t.key_id}</code></td><td>{t.model}</td>
            <td><Badge word={t.status} />{t.error_code ? ` ${t.error_code}` : ""}</td>
            <td class="num">{t.price ? money(t.price.charged ?? t.price.amount, t.price.currency) : "—"}</td>
            <td class="when">{when(t.created_at)}</td><td class="when">{when(t.completed_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Tasks(props: { admin: Admin; query: URLSearchParams }): JSX.Element {
  const { admin, query } = props;
  const tenants = useTenantOptions(admin, "any");
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) ?? ""]));
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [more, setMore] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = (after?: string): void => {
    admin.tasks({ ...filters, after }).then(
      (page) => {
        setTasks((before) => [...(after ? before ?? [] : []), ...page.data]);
        setMore(page.has_more ? page.last_id : null);
        setError(null);
      },
      (e: unknown) => setError(asApiError(e)),
    );
  };
  useEffect(() => load(), [admin, query.toString()]);
  const apply = async (v: Record<string, string>): Promise<void> => {
    const given = Object.entries(v).filter(([, value]) => value.trim() !== "");
    location.hash = `#/tasks?${new URLSearchParams(given).toString()}`;
  };
  return (
    <>
      <h2>Tasks</h2>
      <Card title="Filters">
        {tenants.length > 0 && (
          <ActionForm key={query.toString()} keep name="filters" submit="Filter" onSubmit={apply} fields={[
            { name: "tenant_id", label: "Tenant", options: tenants, value: filters.tenant_id },
            { name: "key_id", label: "Key id", value: filters.key_id, placeholder: "key_..." },
            { name: "model", label: "Model", value: filters.model, placeholder: "any" },
            { name: "status", label: "Status", options: STATUSES, value: filters.status },
            { name: "created_after", label: "Created from", type: "date", value: filters.created_after },
            { name: "created_before", label: "Created to", type: "date", value: filters.created_before },
          ]} />
        )}
        <Problem error={error} />
      </Card>
      {tasks && <TaskTable tasks={tasks} />}
      {more && <button type="button" class="more" onClick={() => load(more)}>Older tasks</button>}
    </>
  );
}

function TaskFacts(props: { task: Task }): JSX.Element {
  const t = props.task;
  return (
    <section class="card">
      <dl class="facts" data-testid="task">
        <dt>Status</dt><dd><Badge word={t.status} />{t.error_code ? ` ${t.error_code}` : ""}{t.deleted ? " (deleted by its client)" : ""}</dd>
        <dt>Tenant</dt><dd>{t.tenant_id && <a href={`#/tenants/${encodeURIComponent(t.tenant_id)}`}>{t.tenant_id}</a>}</dd>
        <dt>Key</dt><dd><a href={`#/keys/${encodeURIComponent(t.key_id)}`}>{t.key_id}</a></dd>
        <dt>Model</dt><dd>{t.model} (through {t.surface})</dd>
        <dt>Price</dt><dd>{t.price ? `${money(t.price.charged ?? t.price.amount, t.price.currency)} (${t.price.state})` : "—"}</dd>
        <dt>Upstream cost</dt><dd>{t.upstream_credits ? `${t.upstream_credits} credits` : "—"}</dd>
        <dt>Created</dt><dd>{when(t.created_at)}</dd>
        <dt>Finished</dt><dd>{when(t.completed_at)}</dd>
      </dl>
    </section>
  );
}

function Event(props: { event: TimelineEvent; onRedeliver: (message: string) => Promise<void> }): JSX.Element {
  const { event } = props;
  const message = typeof event.detail.message_id === "string" ? event.detail.message_id : null;
  return (
    <li class={`event ${event.source}`} data-type={event.type} data-source={event.source}>
      <time>{when(event.at)}{(event.at % 1).toFixed(3).slice(1)}</time>
      <Badge word={event.source} />
      <span class="type">{event.type}</span>
      {event.status && <Badge word={event.status} />}
      <span class="summary">{event.summary}</span>
      {message && event.type === "webhook.message" && (
        <button type="button" class="link" onClick={() => props.onRedeliver(message)}>redeliver</button>
      )}
    </li>
  );
}

export function TaskPage(props: { admin: Admin; id: string }): JSX.Element {
  const { admin, id } = props;
  const timeline = useLoad(() => admin.timeline(id), [admin, id]);
  usePoll(timeline.reload, 2000, [admin, id]); // a running video's changes, a redelivery's tries
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const redeliver = async (message: string): Promise<void> => {
    try {
      await admin.redeliver(message);
      setNote(`${message} sent again.`);
      setError(null);
      timeline.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <>
      <h2><a href="#/tasks">Tasks</a> / <code>{id}</code></h2>
      <Show loaded={timeline}>
        {(t) => (
          <>
            <TaskFacts task={t.video} />
            <Card title="Timeline" testid="timeline">
              <ol class="timeline">
                {t.events.map((e, i) => <Event key={i} event={e} onRedeliver={redeliver} />)}
              </ol>
              {t.truncated && <p class="hint">Only the first events are shown.</p>}
              {note && <p class="done" role="status">{note}</p>}
              <Problem error={error} />
            </Card>
          </>
        )}
      </Show>
    </>
  );
}

// The overview: how many tenants and what they hold, the tasks in each status now, and the
// upstream accounts' health, each linking to its page.

import { Fragment, type JSX } from "preact";
import type { Admin, Tenant } from "./admin";
import { Badge, Card, Show, useLoad } from "./ui";

// Unfinished tasks are counted as they are now; finished ones over the last day. A count
// past what one page reads shows as "N+" (the list is read, not counted, by the API).
const COUNTS: [string, number, boolean][] = [
  ["queued", 1000, false],
  ["processing", 1000, false],
  ["completed", 200, true],
  ["failed", 200, true],
  ["cancelled", 200, true],
];

/** The exact sum of decimal strings (amounts have at most 6 places). */
export function total(amounts: string[]): string {
  const micros = amounts.reduce((sum, a) => {
    const [whole = "0", fraction = ""] = a.replace(/^-/, "").split(".");
    const value = BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0").slice(0, 6));
    return sum + (a.startsWith("-") ? -value : value);
  }, 0n);
  const sign = micros < 0n ? "-" : "";
  const abs = micros < 0n ? -micros : micros;
  const places = Math.max(2, ...amounts.map((a) => a.split(".")[1]?.length ?? 0));
  const fraction = (abs % 1_000_000n).toString().padStart(6, "0").slice(0, places);
  return `${sign}${abs / 1_000_000n}.${fraction}`;
}

async function counts(admin: Admin): Promise<[string, string, boolean][]> {
  const dayAgo = String(Math.floor(Date.now() / 1000) - 86_400);
  return Promise.all(
    COUNTS.map(async ([status, most, lastDay]): Promise<[string, string, boolean]> => {
      const query = { status, limit: String(most), created_after: lastDay ? dayAgo : undefined };
      const page = await admin.tasks(query);
      return [status, page.has_more ? `${most}+` : String(page.data.length), lastDay];
    }),
  );
}

function Money(props: { tenants: Tenant[] }): JSX.Element {
  const { tenants } = props;
  return (
    <dl class="facts">
      <dt>Tenants</dt><dd data-testid="tenant-count">{tenants.length}</dd>
      <dt>Total balance</dt><dd data-testid="total-balance">{total(tenants.map((t) => t.balance))}</dd>
      <dt>Unfinished videos</dt><dd>{tenants.reduce((n, t) => n + t.active_videos, 0)}</dd>
    </dl>
  );
}

export function Overview(props: { admin: Admin }): JSX.Element {
  const { admin } = props;
  const tenants = useLoad(() => admin.tenants(), [admin]);
  const tasks = useLoad(() => counts(admin), [admin]);
  const upstream = useLoad(() => admin.upstream(), [admin]);
  return (
    <>
      <h2>Overview</h2>
      <div class="cards">
        <Card title="Accounts" testid="overview-accounts">
          <Show loaded={tenants}>{({ data }) => <Money tenants={data} />}</Show>
          <p><a href="#/tenants">Tenants</a> · <a href="#/keys">Keys</a> · <a href="#/usage">Usage</a></p>
        </Card>
        <Card title="Tasks" testid="overview-tasks">
          <Show loaded={tasks}>
            {(rows) => (
              <dl class="facts">
                {rows.map(([status, count, lastDay]) => (
                  <Fragment key={status}>
                    <dt><a href={`#/tasks?status=${status}`}>{status}</a>{lastDay ? " (last 24 h)" : ""}</dt>
                    <dd data-status={status}>{count}</dd>
                  </Fragment>
                ))}
              </dl>
            )}
          </Show>
        </Card>
        <Card title="Upstream" testid="overview-upstream">
          <Show loaded={upstream}>
            {({ data }) => (
              <ul class="plain">
                {data.map((a) => (
                  <li key={a.id}><code>{a.id}</code> <Badge word={a.health} />{a.reason && ` ${a.reason}`}</li>
                ))}
              </ul>
            )}
          </Show>
          <p><a href="#/upstream">Upstream accounts</a></p>
        </Card>
      </div>
    </>
  );
}

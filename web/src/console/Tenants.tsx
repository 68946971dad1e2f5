// Tenants (accounts): the list with balances; a tenant's page with its balance, top-ups and
// adjustments (each with its reason), its ledger rows, keys, limits, weight and overdraft.

import type { JSX } from "preact";
import type { Admin, LedgerEntry, Page, Tenant } from "./admin";
import { LimitsForm } from "./Limits";
import { KeyTable } from "./Keys";
import { ActionForm, Card, Show, useLoad, when } from "./ui";

/** The tenants as a select's options, for the forms that name one. */
export function useTenantOptions(admin: Admin, any?: string): [string, string][] {
  const tenants = useLoad(() => admin.tenants(), [admin]);
  const options = (tenants.data?.data ?? []).map((t): [string, string] => [t.id, `${t.name} (${t.id})`]);
  return any === undefined ? options : [["", any], ...options];
}

/** A form that makes something for a tenant: the tenant chosen first (`tenant_id`). */
export function ForTenantForm(props: Parameters<typeof ActionForm>[0] & { admin: Admin }): JSX.Element | null {
  const { admin, fields, ...rest } = props;
  const tenants = useTenantOptions(admin);
  if (tenants.length === 0) return null;
  return <ActionForm {...rest} fields={[{ name: "tenant_id", label: "Tenant", options: tenants }, ...fields]} />;
}

export function Tenants(props: { admin: Admin }): JSX.Element {
  const { admin } = props;
  const tenants = useLoad(() => admin.tenants(), [admin]);
  const create = async (v: Record<string, string>): Promise<string> => {
    const made = await admin.call<Tenant>("POST", "tenants", {
      name: v.name,
      ...(v.balance ? { balance: v.balance } : {}),
      ...(v.overdraft ? { overdraft: v.overdraft } : {}),
    });
    tenants.reload();
    return `Created ${made.name} (${made.id}).`;
  };
  return (
    <>
      <h2>Tenants</h2>
      <Card title="New tenant">
        <ActionForm name="create-tenant" submit="Create tenant" onSubmit={create} fields={[
          { name: "name", label: "Name" },
          { name: "balance", label: "First balance", type: "number", placeholder: "0" },
          { name: "overdraft", label: "Overdraft", type: "number", placeholder: "0" },
        ]} />
      </Card>
      <Show loaded={tenants}>
        {({ data }) => (
          <table class="list" data-testid="tenants">
            <thead><tr><th>Name</th><th>Id</th><th class="num">Balance</th><th class="num">Overdraft</th>
              <th class="num">Weight</th><th class="num">Unfinished</th><th>Created</th></tr></thead>
            <tbody>
              {data.map((t) => (
                <tr key={t.id} data-tenant={t.id}>
                  <td><a href={`#/tenants/${encodeURIComponent(t.id)}`}>{t.name}</a></td>
                  <td><code>{t.id}</code></td>
                  <td class="num">{t.balance}</td><td class="num">{t.overdraft}</td>
                  <td class="num">{t.weight}</td><td class="num">{t.active_videos}</td>
                  <td class="when">{when(t.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </>
  );
}

// Money in (a payment) and a correction either way: each with its reason, as the ledger keeps it.
const MOVES = [
  ["topup", "Top up", "Top up", "topups", "10.00", "payment received"],
  ["adjust", "Adjust (either way)", "Adjust", "adjustments", "-1.50", "correction"],
] as const;

/** Every ledger row of a tenant (pages of the API's, oldest first), newest first. */
async function allRows(admin: Admin, tenant: string): Promise<LedgerEntry[]> {
  const rows: LedgerEntry[] = [];
  let after = 0;
  for (let page = 0; page < 20; page++) {
    const answer: Page<LedgerEntry, number> = await admin.get("ledger", {
      tenant_id: tenant, after: String(after), limit: "1000",
    });
    rows.push(...answer.data);
    if (!answer.has_more || answer.last_id === null) break;
    after = answer.last_id;
  }
  return rows.reverse();
}

export function Ledger(props: { rows: LedgerEntry[] }): JSX.Element {
  if (props.rows.length === 0) return <p class="hint">No ledger rows.</p>;
  return (
    <table class="list" data-testid="ledger">
      <thead><tr><th>#</th><th>When</th><th>Kind</th><th class="num">Amount</th><th class="num">Balance after</th>
        <th>Reason</th><th>Task</th></tr></thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.id} data-kind={r.kind}>
            <td>{r.id}</td><td class="when">{when(r.created_at)}</td><td>{r.kind}</td>
            <td class="num">{r.amount}</td><td class="num">{r.balance_after}</td><td>{r.reason}</td>
            <td>{r.task_id && <a href={`#/tasks/${encodeURIComponent(r.task_id)}`}><code>{r.task_id}</code></a>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TenantPage(props: { admin: Admin; id: string }): JSX.Element {
  const { admin, id } = props;
  const path = `tenants/${encodeURIComponent(id)}`;
  const tenant = useLoad(() => admin.tenant(id), [admin, id]);
  const ledger = useLoad(() => allRows(admin, id), [admin, id]);
  const keys = useLoad(() => admin.keys(id), [admin, id]);
  const changed = (): void => { tenant.reload(); ledger.reload(); };
  const move = (kind: "topups" | "adjustments") => async (v: Record<string, string>): Promise<string> => {
    const row = await admin.call<LedgerEntry>("POST", `${path}/${kind}`, { amount: v.amount, reason: v.reason });
    changed();
    return `${row.amount} (${row.reason}): balance ${row.balance_after}.`;
  };
  const edit = async (v: Record<string, string>): Promise<string> => {
    await admin.call("PATCH", path, { overdraft: v.overdraft, weight: Number(v.weight) || v.weight });
    tenant.reload();
    return "Saved.";
  };
  return (
    <Show loaded={tenant}>
      {(t) => (
        <>
          <h2><a href="#/tenants">Tenants</a> / {t.name}</h2>
          <section class="card">
            <dl class="facts">
              <dt>Id</dt><dd><code>{t.id}</code></dd>
              <dt>Balance</dt><dd data-testid="balance">{t.balance}</dd>
              <dt>Overdraft</dt><dd>{t.overdraft}</dd>
              <dt>Weight</dt><dd>{t.weight}</dd>
              <dt>Unfinished videos</dt><dd>{t.active_videos}</dd>
              <dt>Created</dt><dd>{when(t.created_at)}</dd>
            </dl>
          </section>
          <div class="cards">
            {MOVES.map(([name, title, submit, kind, example, why]) => (
              <Card key={name} title={title} testid={name}>
                <ActionForm name={name} submit={submit} onSubmit={move(kind)} fields={[
                  { name: "amount", label: "Amount", type: "number", placeholder: example },
                  { name: "reason", label: "Reason", placeholder: why },
                ]} />
              </Card>
            ))}
            <Card title="Overdraft and weight">
              <ActionForm keep name="tenant" submit="Save" onSubmit={edit} fields={[
                { name: "overdraft", label: "Overdraft", type: "number", value: t.overdraft },
                { name: "weight", label: "Weight (1-1000)", type: "number", value: String(t.weight) },
              ]} />
            </Card>
            <LimitsForm admin={admin} path={`${path}/limits`} />
          </div>
          <Card title="Keys">
            <Show loaded={keys}>{({ data }) => <KeyTable keys={data} />}</Show>
            <p class="hint"><a href="#/keys">Make a key</a> for this tenant on the keys page.</p>
          </Card>
          <Card title="Ledger (newest first)">
            <Show loaded={ledger}>{(rows) => <Ledger rows={rows} />}</Show>
          </Card>
        </>
      )}
    </Show>
  );
}

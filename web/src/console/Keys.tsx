// Keys: the list (no tokens; only their prefixes), a key made for a tenant (its token shown
// this once, with a copy button), and a key's page: spend cap, limits, revoke.

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Admin, Key } from "./admin";
import { LimitsForm } from "./Limits";
import { ForTenantForm } from "./Tenants";
import { ActionForm, Badge, Card, DangerButton, Show, ShownOnce, textOrNull, useLoad, when } from "./ui";

export function KeyTable(props: { keys: Key[] }): JSX.Element {
  if (props.keys.length === 0) return <p class="hint">No keys.</p>;
  return (
    <table class="list" data-testid="keys">
      <thead><tr><th>Name</th><th>Id</th><th>Starts with</th><th>Tenant</th><th>State</th>
        <th class="num">Spent</th><th class="num">Cap</th><th>Created</th></tr></thead>
      <tbody>
        {props.keys.map((k) => (
          <tr key={k.id} data-key={k.id}>
            <td><a href={`#/keys/${encodeURIComponent(k.id)}`}>{k.name}</a></td>
            <td><code>{k.id}</code></td><td><code>{k.prefix}…</code></td>
            <td><a href={`#/tenants/${encodeURIComponent(k.tenant_id)}`}>{k.tenant_id}</a></td>
            <td><Badge word={k.revoked_at ? "revoked" : k.role === "admin" ? "admin" : "active"} /></td>
            <td class="num">{k.spent}</td><td class="num">{k.spend_cap ?? "—"}</td>
            <td class="when">{when(k.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Keys(props: { admin: Admin }): JSX.Element {
  const { admin } = props;
  const keys = useLoad(() => admin.keys(), [admin]);
  const [token, setToken] = useState("");
  const create = async (v: Record<string, string>): Promise<string> => {
    const made = await admin.call<Key & { token: string }>("POST", "keys", {
      tenant_id: v.tenant_id, name: v.name, spend_cap: textOrNull(v.spend_cap ?? ""),
    });
    setToken(made.token);
    keys.reload();
    return `Made ${made.name} (${made.id}).`;
  };
  return (
    <>
      <h2>Keys</h2>
      <Card title="New key">
        <ForTenantForm admin={admin} name="create-key" submit="Create key" onSubmit={create} fields={[
          { name: "name", label: "Name" },
          { name: "spend_cap", label: "Spend cap", type: "number", placeholder: "none" },
        ]}>
          {token && <ShownOnce label="The key, shown this once (only its hash is kept):" value={token} testid="token" />}
        </ForTenantForm>
      </Card>
      <Show loaded={keys}>{({ data }) => <KeyTable keys={data} />}</Show>
    </>
  );
}

export function KeyPage(props: { admin: Admin; id: string }): JSX.Element {
  const { admin, id } = props;
  const path = `keys/${encodeURIComponent(id)}`;
  // No GET of one key: it is read from the list.
  const key = useLoad(async () => {
    const found = (await admin.keys()).data.find((k) => k.id === id);
    if (!found) throw new Error(`No key ${id}.`);
    return found;
  }, [admin, id]);
  const cap = async (v: Record<string, string>): Promise<string> => {
    await admin.call("PATCH", path, { spend_cap: textOrNull(v.spend_cap ?? "") });
    key.reload();
    return "Spend cap saved.";
  };
  const revoke = async (): Promise<void> => {
    await admin.call("POST", `${path}/revoke`);
    key.reload();
  };
  return (
    <Show loaded={key}>
      {(k) => (
        <>
          <h2><a href="#/keys">Keys</a> / {k.name}</h2>
          <section class="card">
            <dl class="facts">
              <dt>Id</dt><dd><code>{k.id}</code></dd>
              <dt>Starts with</dt><dd><code>{k.prefix}…</code></dd>
              <dt>Tenant</dt><dd><a href={`#/tenants/${encodeURIComponent(k.tenant_id)}`}>{k.tenant_id}</a></dd>
              <dt>State</dt><dd data-testid="key-state"><Badge word={k.revoked_at ? "revoked" : "active"} />
                {k.revoked_at ? ` since ${when(k.revoked_at)}` : ""}</dd>
              <dt>Spent</dt><dd>{k.spent}{k.spend_cap ? ` of ${k.spend_cap}` : ""}</dd>
              <dt>Unfinished videos</dt><dd>{k.active_videos}</dd>
              <dt>Status words</dt><dd>{k.status_dialect}</dd>
            </dl>
            {!k.revoked_at && <p><DangerButton label="Revoke" onConfirm={revoke} /></p>}
          </section>
          <div class="cards">
            <Card title="Spend cap">
              <ActionForm keep name="cap" submit="Save cap" onSubmit={cap} fields={[
                { name: "spend_cap", label: "Spend cap (empty: none)", type: "number", value: k.spend_cap ?? "" },
              ]} />
            </Card>
            <LimitsForm admin={admin} path={`${path}/limits`} />
          </div>
        </>
      )}
    </Show>
  );
}

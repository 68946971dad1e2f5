// Upstream accounts: each one's health (and why, until when), credits, and its slots as a
// bar (running of concurrency, and the queue waiting for it); reset an account, and read its
// credits again where the provider has any.

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { ApiError } from "../api";
import type { Admin, UpstreamAccount } from "./admin";
import { Badge, Problem, Show, asApiError, useLoad, when } from "./ui";

/** running of concurrency as a bar, the waiting queue beside it. */
export function SlotBar(props: { account: UpstreamAccount }): JSX.Element {
  const { concurrency, running, waiting } = props.account;
  const width = 160;
  const used = concurrency > 0 ? Math.min(1, running / concurrency) * width : 0;
  return (
    <span class="slots">
      <svg width={width} height="12" viewBox={`0 0 ${width} 12`} role="img"
        aria-label={`${running} of ${concurrency} running`}>
        <rect class="slot-free" x="0" y="0" width={width} height="12" rx="3" />
        <rect class="slot-used" x="0" y="0" width={used} height="12" rx="3" />
      </svg>
      <span>{running}/{concurrency} running, {waiting} waiting</span>
    </span>
  );
}

export function Upstream(props: { admin: Admin }): JSX.Element {
  const { admin } = props;
  const accounts = useLoad(() => admin.upstream(), [admin]);
  const [note, setNote] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const act = (account: UpstreamAccount, what: "reset" | "credits/refresh") => async (): Promise<void> => {
    try {
      const line = await admin.call<UpstreamAccount>("POST", `upstream/accounts/${encodeURIComponent(account.id)}/${what}`);
      setNote(what === "reset" ? `${line.id} reset: ${line.health}.` : `${line.id}: ${line.credits ?? "—"} credits.`);
      setError(null);
      accounts.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  };
  return (
    <>
      <h2>Upstream accounts</h2>
      <Show loaded={accounts}>
        {({ data }) => (
          <table class="list" data-testid="upstream">
            <thead><tr><th>Account</th><th>Provider</th><th>Health</th><th>Until</th>
              <th class="num">Credits</th><th>Slots</th><th /></tr></thead>
            <tbody>
              {data.map((a) => (
                <tr key={a.id} data-account={a.id} data-health={a.health}>
                  <td><code>{a.id}</code>{a.base_url && <div class="meta">{a.base_url}</div>}</td>
                  <td>{a.provider}</td>
                  <td><Badge word={a.health} />{a.reason && <div class="meta">{a.reason}</div>}</td>
                  <td class="when">{when(a.until)}</td>
                  <td class="num">{a.credits ?? "—"}{a.credits_read_at && <div class="meta">{when(a.credits_read_at)}</div>}</td>
                  <td><SlotBar account={a} /></td>
                  <td class="acts">
                    <button type="button" class="link" onClick={act(a, "reset")}>reset</button>
                    {a.provider !== "sandbox" && (
                      <button type="button" class="link" onClick={act(a, "credits/refresh")}>refresh credits</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
      {note && <p class="done" role="status">{note}</p>}
      <Problem error={error} />
    </>
  );
}

// Usage and margin per day and per model for a period: bar charts of GET /admin/v1/usage and
// /admin/v1/margin, the period's totals, and each report as CSV (format=csv).

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Admin, Query, Report } from "./admin";
import { withQuery } from "./admin";
import { BarChart, type Series } from "./Chart";
import { ActionForm, Card, Problem, Show, asApiError, useLoad } from "./ui";
import type { ApiError } from "../api";

type Kind = "usage" | "margin";
type Group = "day" | "model";

function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

function seriesOf(kind: Kind, report: Report): Series[] {
  const amounts = (pick: (line: Report["data"][number]) => string | null | undefined): number[] =>
    report.data.map((line) => Number(pick(line) ?? 0));
  if (kind === "usage") {
    return [
      { name: "charged", values: amounts((l) => l.charged_amount) },
      { name: "refunded", values: amounts((l) => l.refunded_amount) },
    ];
  }
  return [
    { name: "charged", values: amounts((l) => l.charged_amount) },
    { name: "upstream cost", values: amounts((l) => l.upstream_cost) },
    { name: "margin", values: amounts((l) => l.margin) },
  ];
}

/** The report as a CSV file: fetched with the key, handed to the browser as a download. */
async function download(admin: Admin, kind: Kind, query: Query): Promise<void> {
  const answer = await admin.fetch("GET", withQuery(kind, { ...query, format: "csv" }));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = `${kind}-${query.group_by}.csv`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function ReportChart(props: { admin: Admin; kind: Kind; group: Group; period: Query }): JSX.Element {
  const { admin, kind, group, period } = props;
  const query = { ...period, group_by: group };
  const report = useLoad(() => admin.get<Report>(kind, query), [admin, JSON.stringify(query)]);
  const [error, setError] = useState<ApiError | null>(null);
  const title = `${kind === "usage" ? "Charged" : "Margin"} per ${group}`;
  return (
    <Card title={title}>
      <Show loaded={report}>
        {(r) => (
          <>
            <BarChart title={title} caption={r.currency ? `Amounts in ${r.currency}` : "Amounts"} testid={`${kind}-${group}`}
              labels={r.data.map((line) => line.group ?? "—")} series={seriesOf(kind, r)} />
            <p class="meta" data-testid={`${kind}-${group}-totals`}>
              {r.totals.videos} video(s), charged {r.totals.charged_amount}
              {kind === "margin" && (r.totals.margin != null ? `, margin ${r.totals.margin}` : " (no upstream credit value set)")}
              {r.truncated && ", more groups than shown"}
              {" · "}
              <button type="button" class="link" onClick={() => download(admin, kind, query).catch((e: unknown) => setError(asApiError(e)))}>
                CSV
              </button>
            </p>
            <Problem error={error} />
          </>
        )}
      </Show>
    </Card>
  );
}

export function Usage(props: { admin: Admin }): JSX.Element {
  const [period, setPeriod] = useState<Query>({ since: day(-29), until: day(0) });
  const choose = async (v: Record<string, string>): Promise<void> => setPeriod({ since: v.since, until: v.until });
  return (
    <>
      <h2>Usage and margin</h2>
      <Card title="Period (UTC days, both included)">
        <ActionForm key={JSON.stringify(period)} keep name="period" submit="Show" onSubmit={choose} fields={[
          { name: "since", label: "From", type: "date", value: period.since },
          { name: "until", label: "To", type: "date", value: period.until },
        ]}>
          <p class="presets">
            {[7, 30, 90].map((n) => (
              <button key={n} type="button" class="link" onClick={() => setPeriod({ since: day(1 - n), until: day(0) })}>
                last {n} days
              </button>
            ))}
            <button type="button" class="link" onClick={() => setPeriod({})}>all time</button>
          </p>
        </ActionForm>
      </Card>
      <div class="charts">
        {(["usage", "margin"] as Kind[]).flatMap((kind) =>
          (["day", "model"] as Group[]).map((group) => (
            <ReportChart key={`${kind}-${group}`} admin={props.admin} kind={kind} group={group} period={period} />
          )),
        )}
      </div>
    </>
  );
}

// Prices: the table in force, and a new one put in force (JSON, or TOML as in
// prices.example.toml); a mistake is the API's 400, whose param is the path of the entry.

import type { JSX } from "preact";
import type { Admin, PriceTable } from "./admin";
import { ActionForm, Card, Show, useLoad, when } from "./ui";

/** The table in force; none yet is the API's 404, shown as an empty table. */
async function inForce(admin: Admin): Promise<PriceTable | null> {
  try {
    return await admin.get<PriceTable>("prices");
  } catch (e) {
    if ((e as { status?: number }).status === 404) return null;
    throw e;
  }
}

const EXAMPLE = JSON.stringify(
  { currency: "USD", decimals: 2, models: { "viduq2-turbo": { per_second: { "540p": "0.05", "720p": "0.08", "1080p": "0.12" } } } },
  null,
  2,
);

export function Prices(props: { admin: Admin }): JSX.Element {
  const { admin } = props;
  const table = useLoad(() => inForce(admin), [admin]);
  const put = async (v: Record<string, string>): Promise<string> => {
    const type = v.format === "toml" ? "application/toml" : "application/json";
    const answer = await admin.fetch("PUT", "prices", v.document ?? "", type);
    const set = (await answer.json()) as PriceTable & { changed: boolean };
    table.reload();
    return set.changed ? `Table ${set.id} is in force.` : `That table (${set.id}) was already in force.`;
  };
  return (
    <>
      <h2>Prices</h2>
      <Show loaded={table}>
        {(current) => (
          <>
            <Card title="In force" testid="prices-in-force">
              {current ? (
                <>
                  <p class="meta">
                    Table {current.id}, from {current.source}, since {when(current.created_at)}:{" "}
                    <strong>{current.document.currency}</strong>, {Object.keys(current.document.models).length} model(s).
                  </p>
                  <pre class="document">{JSON.stringify(current.document, null, 2)}</pre>
                </>
              ) : (
                <p class="hint">No price table: videos are free.</p>
              )}
            </Card>
            <Card title="Put a new table">
              <ActionForm keep name="prices" submit="Put in force" onSubmit={put} fields={[
                { name: "format", label: "Format", options: [["json", "JSON"], ["toml", "TOML"]] },
                {
                  name: "document", label: "Table", type: "textarea",
                  value: current ? JSON.stringify(current.document, null, 2) : EXAMPLE,
                },
              ]} />
            </Card>
          </>
        )}
      </Show>
    </>
  );
}

// A key's or a tenant's own limits (docs/limits.md): read, then PATCHed with every field, an
// empty one sent as null (no own limit: the settings' default applies).

import type { JSX } from "preact";
import type { Admin, Limits } from "./admin";
import { ActionForm, Card, Show, intOrNull, textOrNull, useLoad } from "./ui";

const FIELDS: [keyof Limits, string][] = [
  ["requests_per_minute", "Requests per minute"],
  ["creates_per_minute", "Creates per minute"],
  ["active_videos", "Unfinished videos"],
  ["spend_per_day", "Spend per day"],
];

export function LimitsForm(props: { admin: Admin; path: string }): JSX.Element {
  const { admin, path } = props;
  const limits = useLoad(() => admin.get<Limits>(path), [admin, path]);
  const save = async (v: Record<string, string>): Promise<string> => {
    await admin.call<Limits>("PATCH", path, {
      requests_per_minute: intOrNull(v.requests_per_minute ?? ""),
      creates_per_minute: intOrNull(v.creates_per_minute ?? ""),
      active_videos: intOrNull(v.active_videos ?? ""),
      spend_per_day: textOrNull(v.spend_per_day ?? ""),
    });
    limits.reload();
    return "Limits saved.";
  };
  return (
    <Card title="Limits" testid="limits">
      <Show loaded={limits}>
        {(current) => (
          <ActionForm keep name="limits" submit="Save limits" onSubmit={save}
            fields={FIELDS.map(([name, label]) => ({
              name, label, type: "number" as const, placeholder: "default", value: current[name]?.toString() ?? "",
            }))}>
            <p class="hint">Empty: no limit of its own (the gateway's default applies).</p>
          </ActionForm>
        )}
      </Show>
    </Card>
  );
}

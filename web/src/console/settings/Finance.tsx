import { useEffect, useState } from "react";
import { ActionForm, Field } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle } from "../common";

type Settings = Record<string, unknown>;
const READ_ONLY = new Set(["updated_at", "revision"]);

/** Settings → Finance: the invoice sender (email provider), payment terms, tax and the tenant's invoice
 * details. Every plain field of GET /v1/settings/billing is editable; the rest is kept as it is. */
export function Finance() {
  const { api, can } = useConsole();
  const settings = useLoad(() => api.get<Settings>("/v1/settings/billing"), []);
  const save = useAction();
  const [draft, setDraft] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!settings.data) return;
    const plain = Object.entries(settings.data).filter(([k, v]) => !READ_ONLY.has(k) && (v === null || typeof v !== "object"));
    setDraft(Object.fromEntries(plain.map(([k, v]) => [k, v === null ? "" : String(v)])));
  }, [settings.data]);
  const submit = async (current: Settings) => {
    const body: Settings = Object.fromEntries(Object.entries(current).filter(([k]) => !READ_ONLY.has(k)));
    for (const [k, v] of Object.entries(draft)) {
      body[k] = typeof current[k] === "number" ? Number(v) : v === "" && current[k] === null ? null : v;
    }
    if (await save.run(() => api.put("/v1/settings/billing", body), "Finance settings saved.")) settings.reload();
  };
  return (
    <section>
      <ScreenTitle title="Finance">Invoices are emailed from the sender below: verify it with your email provider.</ScreenTitle>
      <Loading loaded={settings}>
        {(current) => (
          can("billing") ? (
            <ActionForm title="Billing settings" action={save} onSubmit={() => void submit(current)} submit="Save settings">
              {Object.keys(draft).map((k) => (
                <Field key={k} label={k.replace(/_/g, " ")} value={draft[k] ?? ""} onChange={(v) => setDraft({ ...draft, [k]: v })} />
              ))}
              <p>Tax: <code>{JSON.stringify(current.tax)}</code></p>
            </ActionForm>
          ) : <pre>{JSON.stringify(current, null, 2)}</pre>
        )}
      </Loading>
    </section>
  );
}

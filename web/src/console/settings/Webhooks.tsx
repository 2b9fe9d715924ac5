import { useState } from "react";
import { ActionForm, ActionResult, Field, Status, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle, useList } from "../common";

interface Endpoint { id: string; url: string; description: string; enabled_events: string[]; status?: string; disabled?: boolean }

/** Settings → Webhooks: endpoints, and a test delivery. */
export function Webhooks() {
  const { api, can } = useConsole();
  const [tick, setTick] = useState(0);
  const endpoints = useList<Endpoint>("/v1/webhook-endpoints", {}, [tick]);
  const create = useAction();
  const test = useAction();
  const [url, setUrl] = useState("");
  const submit = async () => {
    if (await create.run(() => api.post("/v1/webhook-endpoints", { url }), "Endpoint created.")) setTick((t) => t + 1);
  };
  return (
    <section>
      <ScreenTitle title="Webhooks" />
      {can("webhooks") ? (
        <ActionForm title="New endpoint" action={create} onSubmit={() => void submit()} submit="Add endpoint">
          <Field label="Endpoint URL" type="url" value={url} onChange={setUrl} required placeholder="https://example.com/hooks" />
        </ActionForm>
      ) : null}
      <ActionResult action={test} />
      <Loading loaded={endpoints}>
        {(page) => (
          <Table caption="Endpoints" rows={page.data} rowKey={(e) => e.id} columns={[
            { label: "URL", cell: (e) => <code>{e.url}</code> }, { label: "Events", cell: (e) => e.enabled_events.join(", ") },
            { label: "Status", cell: (e) => <Status value={e.status ?? (e.disabled ? "DISABLED" : "ENABLED")} /> },
            { label: "Actions", cell: (e) => can("webhooks") ? (
              <button type="button" className="secondary" onClick={() => void test.run(() => api.post(`/v1/webhook-endpoints/${e.id}/test`), "Test event sent.")}>
                Send test to {e.url}
              </button>) : null },
          ]} />
        )}
      </Loading>
    </section>
  );
}

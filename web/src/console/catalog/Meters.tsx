import { useState } from "react";
import { dateTime } from "../../shared/format";
import { ActionForm, ActionResult, Field, Select, Status, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ReadOnlyNote, ScreenTitle, useList, Pager } from "../common";
import type { Meter } from "../types";

const FUNCTIONS = ["COUNT", "SUM", "MAX", "UNIQUE_COUNT", "LATEST", "AVG"];

/** Catalog → Billable Units: meters with their exact event names and aggregation. */
export function Meters() {
  const { api, can } = useConsole();
  const meters = useList<Meter>("/v1/meters");
  const create = useAction();
  const change = useAction();
  const [eventName, setEventName] = useState("");
  const [name, setName] = useState("");
  const [fn, setFn] = useState("COUNT");
  const [field, setField] = useState("");
  const submit = async () => {
    const aggregation = fn === "COUNT" ? { function: fn } : { function: fn, field };
    const body = { event_name: eventName, aggregation, ...(name ? { name } : {}) };
    if (await create.run(() => api.post("/v1/meters", body), `Billable unit ${eventName} created.`)) meters.reload();
  };
  const toggle = async (m: Meter) => {
    const verb = m.status === "ACTIVE" ? "archive" : "activate";
    if (await change.run(() => api.post(`/v1/meters/${m.id}/${verb}`), `${m.event_name}: ${verb}d.`)) meters.reload();
  };
  return (
    <section aria-labelledby="meters-title">
      <ScreenTitle title="Billable Units">
        Meters turn events into billable quantities. The event name is matched exactly and case-sensitively.
      </ScreenTitle>
      {can("catalog") ? (
        <ActionForm title="New billable unit" action={create} onSubmit={() => void submit()} submit="Create billable unit">
          <div className="row">
            <Field label="Event name" value={eventName} onChange={setEventName} required placeholder="api.call" />
            <Field label="Display name" value={name} onChange={setName} placeholder="defaults to the event name" />
            <Select label="Aggregation" value={fn} onChange={setFn} options={FUNCTIONS.map((f) => ({ value: f, label: f }))} />
            {fn !== "COUNT" ? <Field label="Property to aggregate" value={field} onChange={setField} required /> : null}
          </div>
        </ActionForm>
      ) : <ReadOnlyNote area="the catalog" />}
      <ActionResult action={change} />
      <Loading loaded={meters}>
        {(page) => (
          <Table caption="Billable units" rows={page.data} rowKey={(m) => m.id} columns={[
            { label: "Event name", cell: (m) => <code>{m.event_name}</code> },
            { label: "Name", cell: (m) => m.name },
            { label: "Aggregation", cell: (m) => m.aggregation.field ? `${m.aggregation.function}(${m.aggregation.field})` : m.aggregation.function },
            { label: "Status", cell: (m) => <Status value={m.status} /> },
            { label: "In plans", cell: (m) => m.published_in.map((v) => `${v.plan_id} v${v.version}`).join(", ") || "—" },
            { label: "Created", cell: (m) => dateTime(m.created_at) },
            { label: "Actions", cell: (m) => can("catalog") ? (
              <button type="button" className="secondary" onClick={() => void toggle(m)}
                aria-label={`${m.status === "ACTIVE" ? "Archive" : "Activate"} ${m.event_name}`}>
                {m.status === "ACTIVE" ? "Archive" : "Activate"}
              </button>) : null },
          ]} />
        )}
      </Loading>
      <Pager list={meters} />
    </section>
  );
}

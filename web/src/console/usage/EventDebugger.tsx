import { useEffect, useState } from "react";
import { dateTime } from "../../shared/format";
import { Field, Select, Status, Table } from "../../shared/ui";
import { useConsole } from "../context";
import { Loading, ScreenTitle, useList, Pager } from "../common";
import type { LoggedEvent } from "../types";
import { SendEvent } from "./SendEvent";

const STATUSES = ["", "ACCEPTED", "LATE", "DUPLICATE", "REJECTED"];
const POLL_MS = 2000;

/** Usage Tracking → Event Debugger: the event log, newest first, live (refreshed every 2 s). */
export function EventDebugger() {
  const { can } = useConsole();
  const [status, setStatus] = useState("");
  const [eventName, setEventName] = useState("");
  const [customer, setCustomer] = useState("");
  const [live, setLive] = useState(true);
  const [tick, setTick] = useState(0);
  const events = useList<LoggedEvent>("/v1/ingest/events",
    { status, event_name: eventName, external_customer_id: customer }, [tick]);
  // Live: the next refresh 2 s after the last one answered (a slow answer is never cut off by the next).
  useEffect(() => {
    if (!live || events.loading) return undefined;
    const timer = window.setTimeout(() => setTick((t) => t + 1), POLL_MS);
    return () => window.clearTimeout(timer);
  }, [live, events.loading]);
  return (
    <section>
      <ScreenTitle title="Event Debugger">Every event received: stored, late, duplicate or rejected, with the reason.</ScreenTitle>
      {can("usage") ? <SendEvent onSent={() => setTick((t) => t + 1)} /> : null}
      <div className="row" role="search" aria-label="Filter events">
        <Select label="Status" value={status} onChange={setStatus} options={STATUSES.map((s) => ({ value: s, label: s || "any" }))} />
        <Field label="Filter by event name" value={eventName} onChange={setEventName} />
        <Field label="Filter by customer external id" value={customer} onChange={setCustomer} />
        <label><input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> Live</label>
      </div>
      <Loading loaded={events}>
        {(page) => (
          <Table caption={`Events (${page.data.length}${page.has_more ? "+" : ""})`} rows={page.data} rowKey={(e) => `${e.event_id}-${e.received_at}`} columns={[
            { label: "Received", cell: (e) => dateTime(e.received_at) },
            { label: "Status", cell: (e) => <Status value={e.status} /> },
            { label: "Event name", cell: (e) => <code>{e.event_name ?? "—"}</code> },
            { label: "Customer", cell: (e) => e.external_customer_id ?? "—" },
            { label: "Event time", cell: (e) => dateTime(e.timestamp) },
            { label: "Quantity", cell: (e) => e.quantity ?? "—" },
            { label: "Reason", cell: (e) => (e.code ? <><code>{e.code}</code> {e.reason}</> : e.reason || "—") },
            { label: "Event id", cell: (e) => <code>{e.event_id}</code> },
          ]} />
        )}
      </Loading>
      <Pager list={events} />
    </section>
  );
}

import { useState } from "react";
import { toRfc3339 } from "../../shared/format";
import { ActionForm, Field } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import type { IngestAnswer } from "../types";

/** Send test events (POST /v1/ingest/events) to see them arrive in the Event Debugger. */
export function SendEvent({ onSent }: { onSent: () => void }) {
  const { api } = useConsole();
  const send = useAction();
  const [eventName, setEventName] = useState("");
  const [customer, setCustomer] = useState("");
  const [count, setCount] = useState("1");
  const [timestamp, setTimestamp] = useState("");
  const [properties, setProperties] = useState("{}");
  const submit = async () => {
    const n = Math.min(Math.max(Number.parseInt(count, 10) || 1, 1), 100);
    const props: unknown = JSON.parse(properties || "{}");
    const stamp = Date.now().toString(36);
    const events = Array.from({ length: n }, (_, i) => ({
      event_id: `console-${stamp}-${i}`, event_name: eventName, external_customer_id: customer, properties: props,
      ...(timestamp ? { timestamp: toRfc3339(timestamp) } : {}),
    }));
    const answer = await send.call(() => api.post<IngestAnswer>("/v1/ingest/events", { events }),
      (a) => `Accepted ${a.accepted}, duplicates ${a.duplicates}, rejected ${a.rejected.length}` +
        (a.rejected[0] ? ` (${a.rejected[0].code}: ${a.rejected[0].detail})` : "") + ".");
    if (answer) onSent();
  };
  return (
    <ActionForm title="Send test events" action={send} onSubmit={() => void submit()} submit="Send events">
      <div className="row">
        <Field label="Event name" value={eventName} onChange={setEventName} required placeholder="api.call" />
        <Field label="Customer external id" value={customer} onChange={setCustomer} required />
        <Field label="How many events" type="number" value={count} onChange={setCount} />
        <Field label="Event time (UTC, optional)" type="datetime-local" value={timestamp} onChange={setTimestamp} />
        <Field label="Properties (JSON)" value={properties} onChange={setProperties} />
      </div>
    </ActionForm>
  );
}

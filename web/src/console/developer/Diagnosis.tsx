import { useState } from "react";
import { ActionForm, Field } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { ScreenTitle } from "../common";

interface Cause { code: string; title: string; detail: string; fix: string; count: number; examples: Record<string, string>[] }
interface Diagnosis { status: string; summary: string; causes: Cause[]; checked: Record<string, unknown> }

/** Developer Hub → Integration Diagnosis: which documented cause explains missing or wrong usage. */
export function IntegrationDiagnosis() {
  const { api } = useConsole();
  const run = useAction();
  const [customer, setCustomer] = useState("");
  const [eventName, setEventName] = useState("");
  const [hours, setHours] = useState("24");
  const [answer, setAnswer] = useState<Diagnosis | null>(null);
  const submit = async () => {
    const query = { external_customer_id: customer, event_name: eventName, hours };
    setAnswer(await run.call(() => api.get<Diagnosis>("/v1/ingest/diagnose", query)));
  };
  return (
    <section>
      <ScreenTitle title="Integration Diagnosis">Usage missing or zero? Check what the event log says.</ScreenTitle>
      <ActionForm title="Diagnose" action={run} onSubmit={() => void submit()} submit="Diagnose">
        <div className="row">
          <Field label="Customer external id (optional)" value={customer} onChange={setCustomer} />
          <Field label="Event name (optional)" value={eventName} onChange={setEventName} />
          <Field label="Hours back" type="number" value={hours} onChange={setHours} />
        </div>
      </ActionForm>
      {answer ? (
        <div className="card" aria-live="polite">
          <p><strong data-testid="diagnosis-status">{answer.status}</strong>: {answer.summary}</p>
          {answer.causes.map((c) => (
            <div key={c.code} className="card">
              <h3>{c.title} <code>{c.code}</code></h3>
              <p>{c.detail}</p>
              <p><strong>Fix:</strong> {c.fix}</p>
            </div>
          ))}
        </div>
      ) : null}
    </section>
  );
}

import { useState } from "react";
import { Chart } from "../../shared/Chart";
import { toRfc3339 } from "../../shared/format";
import { ActionForm, Field, Select, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { ScreenTitle, useList } from "../common";
import type { Meter, UsageAnswer } from "../types";

/** Usage Tracking → Query Tool: a customer's aggregated usage of a meter per HOUR, DAY or MONTH, charted. */
export function QueryTool() {
  const { api } = useConsole();
  const meters = useList<Meter>("/v1/meters");
  const query = useAction();
  const [customer, setCustomer] = useState("");
  const [meterId, setMeterId] = useState("");
  const [grain, setGrain] = useState("DAY");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [answer, setAnswer] = useState<UsageAnswer | null>(null);
  const options = (meters.data?.data ?? []).map((m) => ({ value: m.id, label: `${m.event_name} (${m.aggregation.function})` }));
  const submit = async () => {
    const params = { external_customer_id: customer, meter_id: meterId || options[0]?.value, window: grain,
      from: from ? toRfc3339(from) : undefined, to: to ? toRfc3339(to) : undefined };
    setAnswer(await query.call(() => api.get<UsageAnswer>("/v1/usage", params)));
  };
  const rows = answer?.data ?? [];
  return (
    <section>
      <ScreenTitle title="Query Tool">What the billing pipeline counts: the same aggregation invoices use.</ScreenTitle>
      <ActionForm title="Usage query" action={query} onSubmit={() => void submit()} submit="Run query">
        <div className="row">
          <Field label="Customer external id" value={customer} onChange={setCustomer} required />
          <Select label="Billable unit" value={meterId} onChange={setMeterId} options={options} />
          <Select label="Window" value={grain} onChange={setGrain} options={["HOUR", "DAY", "MONTH"].map((w) => ({ value: w, label: w }))} />
          <Field label="From (UTC)" type="datetime-local" value={from} onChange={setFrom} />
          <Field label="To (UTC)" type="datetime-local" value={to} onChange={setTo} />
        </div>
      </ActionForm>
      {answer ? (
        <div className="card">
          <p>Total <strong data-testid="usage-total">{answer.value}</strong> for <code>{answer.event_name}</code> from {answer.from} to {answer.to}</p>
          <Chart title={`Usage per ${answer.window ?? "window"}`} labels={rows.map((r) => r.from.slice(0, answer.window === "HOUR" ? 13 : 10))}
            series={[{ label: answer.event_name, values: rows.map((r) => Number(r.value)) }]} />
          <Table caption="Usage per window" rows={rows.filter((r) => r.value !== "0")} rowKey={(r) => r.from} columns={[
            { label: "From", cell: (r) => r.from }, { label: "To", cell: (r) => r.to }, { label: "Value", cell: (r) => r.value },
          ]} />
        </div>
      ) : null}
    </section>
  );
}

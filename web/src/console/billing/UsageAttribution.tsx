import { dateTime, money } from "../../shared/format";
import { Table } from "../../shared/ui";
import type { AttributionStage, Invoice } from "../types";

const STAGE_NAMES: Record<string, string> = {
  raw_usage: "Raw usage events", aggregated: "Aggregated per billable unit", included_units: "Included units",
  tiers: "Priced (tiers)", subtotal: "Subtotal", discounts: "Discounts", credit_notes: "Credit notes", tax: "Tax",
  wallet: "Wallet", total: "Total",
};

function value(v: unknown, names: Map<string, string>): string {
  if (Array.isArray(v)) return v.length ? JSON.stringify(v) : "none";
  if (v && typeof v === "object") {
    return Object.entries(v).map(([k, x]) => `${names.get(k) ?? k} ${String(x)}`).join(", ") || "none";
  }
  return String(v);
}

/** A stage's figures, with billable units named by their event names. */
function describe(stage: AttributionStage, names: Map<string, string>): string {
  return Object.entries(stage).filter(([k]) => k !== "stage")
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${value(v, names)}`).join(" · ");
}

/** The Usage Attribution tab: how raw events became the invoice total, stage by stage, and the event
 * windows behind each usage line. */
export function UsageAttribution({ invoice }: { invoice: Invoice }) {
  const stages = invoice.attribution.stages ?? [];
  const usage = invoice.attribution.usage ?? [];
  const names = new Map(usage.map((u) => [u.meter_id, u.event_name]));
  return (
    <>
      <h3>Pipeline stages</h3>
      <ol className="stages" aria-label="Pipeline stages">
        {stages.map((s) => (
          <li key={s.stage} data-stage={s.stage}><strong>{STAGE_NAMES[s.stage] ?? s.stage}</strong> — {describe(s, names)}</li>
        ))}
      </ol>
      {usage.map((u) => (
        <div key={u.meter_id} className="card">
          <h4><code>{u.event_name}</code> · {u.event_count} events → {u.aggregated_quantity} aggregated − {u.included_units} included
            = {u.billable_quantity} billable → {money(u.amount, invoice.currency)}</h4>
          <Table caption={`Event windows of ${u.event_name} (${dateTime(u.usage_from)} → ${dateTime(u.usage_to)})`}
            rows={u.windows} rowKey={(w) => w.from} columns={[
              { label: "From", cell: (w) => dateTime(w.from) }, { label: "To", cell: (w) => dateTime(w.to) },
              { label: "Events", cell: (w) => w.event_count }, { label: "Quantity", cell: (w) => w.quantity },
            ]} />
        </div>
      ))}
      {usage.length === 0 ? <p>No usage lines on this invoice.</p> : null}
    </>
  );
}

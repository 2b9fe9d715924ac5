import { useState, type KeyboardEvent } from "react";
import { dateTime, money } from "../../shared/format";
import { Table } from "../../shared/ui";
import type { Invoice } from "../types";
import { UsageAttribution } from "./UsageAttribution";
import { InvoiceCreditNotes } from "./InvoiceCreditNotes";

const TABS = ["Lines", "Usage Attribution", "Credit Notes", "Payments"] as const;
type Tab = (typeof TABS)[number];
const tabId = (t: Tab) => `tab-${t.toLowerCase().replace(/ /g, "-")}`;

/** The invoice's tabs (WAI-ARIA tabs: arrow keys move between them). */
export function InvoiceTabs({ invoice, onChanged }: { invoice: Invoice; onChanged: () => void }) {
  const [tab, setTab] = useState<Tab>("Lines");
  const keys = (e: KeyboardEvent) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length] ?? "Lines";
    setTab(next);
    document.getElementById(tabId(next))?.focus();
  };
  return (
    <div className="card">
      <div role="tablist" aria-label="Invoice" className="tabs" onKeyDown={keys}>
        {TABS.map((t) => (
          <button key={t} id={tabId(t)} type="button" role="tab" aria-selected={tab === t} aria-controls="invoice-panel"
            tabIndex={tab === t ? 0 : -1} onClick={() => setTab(t)}>{t}</button>
        ))}
      </div>
      <div id="invoice-panel" role="tabpanel" aria-labelledby={tabId(tab)}>
        {tab === "Lines" ? <Lines invoice={invoice} /> : null}
        {tab === "Usage Attribution" ? <UsageAttribution invoice={invoice} /> : null}
        {tab === "Credit Notes" ? <InvoiceCreditNotes invoice={invoice} onChanged={onChanged} /> : null}
        {tab === "Payments" ? <Payments invoice={invoice} /> : null}
      </div>
    </div>
  );
}

function Lines({ invoice }: { invoice: Invoice }) {
  const totals = Object.entries(invoice.totals).filter(([, v]) => typeof v === "string");
  return (
    <>
      <Table caption="Invoice lines" rows={invoice.lines} rowKey={(l) => `${l.kind}-${l.description}`} columns={[
        { label: "Description", cell: (l) => l.description }, { label: "Kind", cell: (l) => l.kind },
        { label: "Quantity", cell: (l) => l.quantity ?? "—" },
        { label: "Amount", cell: (l) => money(l.amount, invoice.currency) },
      ]} />
      <Table caption="Totals" rows={totals} rowKey={([k]) => k} columns={[
        { label: "Total", cell: ([k]) => k.replace(/_/g, " ") }, { label: "Amount", cell: ([, v]) => money(String(v), invoice.currency) },
      ]} />
    </>
  );
}

function Payments({ invoice }: { invoice: Invoice }) {
  return (
    <Table caption="Payment attempts" rows={invoice.payment_attempts} rowKey={(a) => JSON.stringify(a)} columns={[
      { label: "Attempt", cell: (a) => String(a.number ?? "—") }, { label: "At", cell: (a) => dateTime(String(a.at ?? "")) },
      { label: "Outcome", cell: (a) => String(a.outcome ?? "—") }, { label: "Decline code", cell: (a) => String(a.decline_code ?? "—") },
      { label: "Trigger", cell: (a) => String(a.trigger ?? "—") },
    ]} />
  );
}

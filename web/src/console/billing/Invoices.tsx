import { useState } from "react";
import { dateTime, money } from "../../shared/format";
import { Select, Status, Table } from "../../shared/ui";
import { Link, Loading, ScreenTitle, useList, Pager } from "../common";
import type { Invoice } from "../types";
import { InvoiceDetail } from "./InvoiceDetail";

const STATUSES = ["", "DRAFT", "FINALIZED", "PAID", "VOID", "UNCOLLECTIBLE", "FAILED"];

/** Billing → Invoices: the list, and one invoice with its lines, Usage Attribution, credit notes and PDF. */
export function Invoices({ item }: { item: string | null }) {
  return item ? <InvoiceDetail invoiceId={item} /> : <InvoiceList />;
}

function InvoiceList() {
  const [status, setStatus] = useState("");
  const invoices = useList<Invoice>("/v1/invoices", { status });
  return (
    <section>
      <ScreenTitle title="Invoices" />
      <Select label="Invoice status" value={status} onChange={setStatus} options={STATUSES.map((s) => ({ value: s, label: s || "any" }))} />
      <Loading loaded={invoices}>
        {(page) => (
          <Table caption="Invoices" rows={page.data} rowKey={(i) => i.id} columns={[
            { label: "Invoice", cell: (i) => <Link route={`billing/invoices/${i.id}`}>{i.id}</Link> },
            { label: "Status", cell: (i) => <Status value={i.status} /> },
            { label: "Customer", cell: (i) => <Link route={`commercial/customers/${i.customer_id}`}>{i.customer_id}</Link> },
            { label: "Period", cell: (i) => `${dateTime(i.period.start)} → ${dateTime(i.period.end)}` },
            { label: "Total", cell: (i) => money(String(i.totals.total ?? ""), i.currency) },
            { label: "Amount due", cell: (i) => money(i.amount_due, i.currency) },
          ]} />
        )}
      </Loading>
      <Pager list={invoices} />
    </section>
  );
}

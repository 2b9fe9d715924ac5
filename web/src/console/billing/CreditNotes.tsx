import { dateTime, money } from "../../shared/format";
import { Table } from "../../shared/ui";
import { Link, Loading, ScreenTitle, useList, Pager } from "../common";
import type { CreditNote } from "../types";

/** Billing → Credit Notes: every credit note (issue one from its invoice's Credit Notes tab). */
export function CreditNotes() {
  const notes = useList<CreditNote>("/v1/credit-notes");
  return (
    <section>
      <ScreenTitle title="Credit Notes">Issue a credit note from its invoice (Invoices → an invoice → Credit Notes).</ScreenTitle>
      <Loading loaded={notes}>
        {(page) => (
          <Table caption="Credit notes" rows={page.data} rowKey={(n) => n.id} columns={[
            { label: "Credit note", cell: (n) => <code>{n.id}</code> },
            { label: "Invoice", cell: (n) => <Link route={`billing/invoices/${n.invoice_id}`}>{n.invoice_id}</Link> },
            { label: "Customer", cell: (n) => <Link route={`commercial/customers/${n.customer_id}`}>{n.customer_id}</Link> },
            { label: "Amount", cell: (n) => money(n.amount, n.currency) }, { label: "Reason", cell: (n) => n.reason || "—" },
            { label: "Created", cell: (n) => dateTime(n.created_at) },
          ]} />
        )}
      </Loading>
      <Pager list={notes} />
    </section>
  );
}

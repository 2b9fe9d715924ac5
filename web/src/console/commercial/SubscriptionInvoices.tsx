import { dateTime, money } from "../../shared/format";
import { Status, Table } from "../../shared/ui";
import { Link, Loading, useList } from "../common";
import type { Invoice } from "../types";

type Attempt = Record<string, unknown> & { invoice: string };

/** A subscription's invoices with their payment (dunning) attempts: what Retry payment acts on. */
export function SubscriptionInvoices({ subscriptionId, reloadKey }: { subscriptionId: string; reloadKey: unknown }) {
  const invoices = useList<Invoice>("/v1/invoices", { subscription_id: subscriptionId }, [reloadKey]);
  return (
    <Loading loaded={invoices}>
      {(page) => (
        <>
          <Table caption="Invoices" rows={page.data} rowKey={(i) => i.id} columns={[
            { label: "Invoice", cell: (i) => <Link route={`billing/invoices/${i.id}`}>{i.id}</Link> },
            { label: "Status", cell: (i) => <Status value={i.status} /> },
            { label: "Period", cell: (i) => `${dateTime(i.period.start)} → ${dateTime(i.period.end)}` },
            { label: "Amount due", cell: (i) => money(i.amount_due, i.currency) },
            { label: "Payment attempts", cell: (i) => i.payment_attempts.length },
          ]} />
          <Table caption="Dunning attempts" rows={page.data.flatMap((i) => i.payment_attempts.map((a): Attempt => ({ ...a, invoice: i.id })))}
            rowKey={(a) => JSON.stringify(a)} columns={[
              { label: "Invoice", cell: (a) => <code>{a.invoice}</code> }, { label: "Attempt", cell: (a) => String(a.number ?? "—") },
              { label: "At", cell: (a) => dateTime(String(a.at ?? "")) }, { label: "Outcome", cell: (a) => String(a.outcome ?? "—") },
              { label: "Decline code", cell: (a) => String(a.decline_code ?? "—") }, { label: "Trigger", cell: (a) => String(a.trigger ?? "—") },
            ]} />
        </>
      )}
    </Loading>
  );
}

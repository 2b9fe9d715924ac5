import { dateTime, money } from "../../shared/format";
import { ActionResult, Status } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Link, Loading, ScreenTitle } from "../common";
import type { Invoice } from "../types";
import { InvoiceTabs } from "./InvoiceTabs";
import { PdfLink } from "./PdfLink";

/** One invoice: totals, send/resend, void, mark paid, the PDF, and its tabs. */
export function InvoiceDetail({ invoiceId }: { invoiceId: string }) {
  const { api, can } = useConsole();
  const path = `/v1/invoices/${invoiceId}`;
  const invoice = useLoad(() => api.get<Invoice>(path), [path]);
  const action = useAction();
  const act = async (verb: string, done: string) => {
    if (await action.run(() => api.post(`${path}/${verb}`), done)) invoice.reload();
  };
  return (
    <section>
      <p><Link route="billing/invoices">← Invoices</Link></p>
      <Loading loaded={invoice}>
        {(inv) => (
          <>
            <ScreenTitle title={`Invoice ${inv.id}`}>
              <Status value={inv.status} /> · customer <Link route={`commercial/customers/${inv.customer_id}`}>{inv.customer_id}</Link> ·
              period {dateTime(inv.period.start)} → {dateTime(inv.period.end)} · total{" "}
              <strong data-testid="invoice-total">{money(String(inv.totals.total ?? ""), inv.currency)}</strong> · due{" "}
              {money(inv.amount_due, inv.currency)}
            </ScreenTitle>
            {inv.error_code ? <p role="alert"><code>{inv.error_code}</code> {inv.error_detail}</p> : null}
            <p>
              Email: {inv.delivery ? `${inv.delivery.status}${inv.delivery.reason ? ` — ${inv.delivery.reason}` : ""}` : "not sent yet"}
            </p>
            <div className="row">
              <PdfLink invoiceId={inv.id} />
              {can("billing") ? (
                <>
                  <button type="button" onClick={() => void act("send", "Invoice email sent.")}>{inv.delivery ? "Resend invoice" : "Send invoice"}</button>
                  {inv.status === "FAILED" || inv.status === "DRAFT" ? <button type="button" className="secondary" onClick={() => void act("retry", "Invoice reprocessed.")}>Retry invoice</button> : null}
                  {inv.status === "FINALIZED" ? <button type="button" className="secondary" onClick={() => void act("mark-paid", "Marked paid.")}>Mark paid</button> : null}
                  {inv.status === "FINALIZED" ? <button type="button" className="secondary" onClick={() => void act("void", "Invoice voided.")}>Void invoice</button> : null}
                </>
              ) : null}
            </div>
            <ActionResult action={action} />
            <InvoiceTabs invoice={inv} onChanged={invoice.reload} />
          </>
        )}
      </Loading>
    </section>
  );
}

// Upcoming and past invoices, with a PDF download of each issued one.

import { dateTime, money } from "../shared/format";
import { ProblemBox } from "../shared/ProblemBox";
import { ActionResult } from "../shared/ui";
import { useAction, useLoad } from "../shared/useApi";
import { usePortal } from "./context";
import type { Invoice, Invoices as InvoiceList } from "./types";

export function Invoices() {
  const { api, version } = usePortal();
  const invoices = useLoad(() => api.get<InvoiceList>("/v1/portal/invoices"), [version]);
  return (
    <section aria-labelledby="invoices-title" id="invoices">
      <h2 id="invoices-title">Invoices</h2>
      {invoices.problem ? <ProblemBox problem={invoices.problem} /> : null}
      {invoices.data === null && !invoices.problem ? <p aria-busy="true">Loading…</p> : null}
      {invoices.data ? (
        <>
          <InvoiceTable caption="Upcoming (this period so far)" rows={invoices.data.upcoming} pdf={false} />
          <InvoiceTable caption="Past invoices" rows={invoices.data.data} pdf />
        </>
      ) : null}
    </section>
  );
}

function period(i: Invoice): string {
  return `${dateTime(i.period.start).slice(0, 10)} – ${dateTime(i.period.end).slice(0, 10)}`;
}

function InvoiceTable({ caption, rows, pdf }: { caption: string; rows: Invoice[]; pdf: boolean }) {
  return (
    <div className="scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col">Status</th>
            <th scope="col">Total</th>
            <th scope="col">Amount due</th>
            {pdf ? <th scope="col">PDF</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <tr><td colSpan={pdf ? 5 : 4}>None.</td></tr> : null}
          {rows.map((i) => (
            <tr key={`${i.id}-${i.subscription_id}`}>
              <td>{period(i)}</td>
              <td>{i.status}</td>
              <td>{money(i.totals.total ?? null, i.currency)}</td>
              <td>{money(i.amount_due, i.currency)}</td>
              {pdf ? <td><PdfButton invoice={i} /></td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PdfButton({ invoice }: { invoice: Invoice }) {
  const { api } = usePortal();
  const action = useAction();
  const download = () =>
    void action.run(async () => {
      const blob = await api.blob(`/v1/portal/invoices/${invoice.id}/pdf`);
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${invoice.id}.pdf`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  return (
    <>
      <button type="button" className="secondary" aria-label={`Download invoice ${invoice.id} as PDF`}
        disabled={action.busy} onClick={download}>PDF</button>
      <ActionResult action={action} />
    </>
  );
}

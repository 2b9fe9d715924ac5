import { useState } from "react";
import { dateTime, money } from "../../shared/format";
import { ActionForm, Field, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, useList } from "../common";
import type { CreditNote, Invoice } from "../types";

/** The invoice's credit notes, and issuing one (the amount goes back to the customer's balance). */
export function InvoiceCreditNotes({ invoice, onChanged }: { invoice: Invoice; onChanged: () => void }) {
  const { api, can } = useConsole();
  const [tick, setTick] = useState(0);
  const notes = useList<CreditNote>("/v1/credit-notes", { invoice_id: invoice.id }, [tick]);
  const create = useAction();
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const submit = async () => {
    const body = { invoice_id: invoice.id, amount, reason };
    if (await create.run(() => api.post("/v1/credit-notes", body), "Credit note issued.")) { setTick((t) => t + 1); onChanged(); }
  };
  return (
    <>
      <Loading loaded={notes}>
        {(page) => (
          <Table caption="Credit notes" rows={page.data} rowKey={(n) => n.id} columns={[
            { label: "Credit note", cell: (n) => <code>{n.id}</code> }, { label: "Amount", cell: (n) => money(n.amount, n.currency) },
            { label: "Reason", cell: (n) => n.reason || "—" }, { label: "Created", cell: (n) => dateTime(n.created_at) },
          ]} />
        )}
      </Loading>
      {can("billing") ? (
        <ActionForm title="Issue a credit note" action={create} onSubmit={() => void submit()} submit="Issue credit note">
          <div className="row">
            <Field label={`Amount (${invoice.currency})`} value={amount} onChange={setAmount} required placeholder="5.00" />
            <Field label="Reason" value={reason} onChange={setReason} />
          </div>
        </ActionForm>
      ) : null}
    </>
  );
}

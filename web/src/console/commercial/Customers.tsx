import { useState } from "react";
import { dateTime } from "../../shared/format";
import { ActionForm, Field, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Link, Loading, ReadOnlyNote, ScreenTitle, useList, Pager } from "../common";
import type { Customer } from "../types";
import { SubscriptionTable } from "./SubscriptionTable";

/** Commercial → Customers: create, list, and one customer with its subscriptions and payment method. */
export function Customers({ item }: { item: string | null }) {
  return item ? <CustomerDetail customerId={item} /> : <CustomerList />;
}

function CustomerList() {
  const { api, can, go } = useConsole();
  const customers = useList<Customer>("/v1/customers");
  const create = useAction();
  const [externalId, setExternalId] = useState("");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [currency, setCurrency] = useState("USD");
  const submit = async () => {
    const body = { external_id: externalId, name, currency, ...(email ? { email } : {}) };
    const created = await create.call(() => api.post<Customer>("/v1/customers", body), "Customer created.");
    if (created) go(`commercial/customers/${created.id}`);
  };
  return (
    <section>
      <ScreenTitle title="Customers">Each customer is billed in one currency; your id for it is its external id.</ScreenTitle>
      {can("customers") ? (
        <ActionForm title="New customer" action={create} onSubmit={() => void submit()} submit="Create customer">
          <div className="row">
            <Field label="External id" value={externalId} onChange={setExternalId} required placeholder="acme-corp" />
            <Field label="Customer name" value={name} onChange={setName} />
            <Field label="Email" type="email" value={email} onChange={setEmail} />
            <Field label="Customer currency" value={currency} onChange={setCurrency} required />
          </div>
        </ActionForm>
      ) : <ReadOnlyNote area="customers" />}
      <Loading loaded={customers}>
        {(page) => (
          <Table caption="Customers" rows={page.data} rowKey={(c) => c.id} columns={[
            { label: "External id", cell: (c) => <Link route={`commercial/customers/${c.id}`}>{c.external_id}</Link> },
            { label: "Name", cell: (c) => c.name || "—" },
            { label: "Email", cell: (c) => c.email ?? "—" },
            { label: "Currency", cell: (c) => c.currency },
            { label: "Payment method", cell: (c) => c.payment_method ?? "none" },
            { label: "Created", cell: (c) => dateTime(c.created_at) },
          ]} />
        )}
      </Loading>
      <Pager list={customers} />
    </section>
  );
}

function CustomerDetail({ customerId }: { customerId: string }) {
  const { api, can } = useConsole();
  const customer = useLoad(() => api.get<Customer>(`/v1/customers/${customerId}`), [customerId]);
  const pm = useAction();
  const [method, setMethod] = useState("pm_card_visa");
  const submit = async () => {
    const ok = await pm.run(() => api.put(`/v1/customers/${customerId}/payment-method`, { payment_method: method }), "Payment method saved.");
    if (ok) customer.reload();
  };
  return (
    <section>
      <p><Link route="commercial/customers">← Customers</Link></p>
      <Loading loaded={customer}>
        {(c) => (
          <>
            <ScreenTitle title={`Customer ${c.name || c.external_id}`}>
              <code>{c.id}</code> · external id <code>{c.external_id}</code> · {c.currency} · {c.email ?? "no email"} ·
              payment method {c.payment_method ?? "none"}
            </ScreenTitle>
            <SubscriptionTable customerId={c.id} />
            {can("customers") ? (
              <ActionForm title="Payment method" action={pm} onSubmit={() => void submit()} submit="Save payment method">
                <Field label="Payment method id" value={method} onChange={setMethod} required />
              </ActionForm>
            ) : null}
          </>
        )}
      </Loading>
    </section>
  );
}

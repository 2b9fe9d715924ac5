import { useState } from "react";
import { toRfc3339 } from "../../shared/format";
import { ActionForm, Field, Select } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { ReadOnlyNote, ScreenTitle, useList } from "../common";
import type { Customer, Plan, Subscription } from "../types";
import { SubscriptionDetail } from "./SubscriptionDetail";
import { SubscriptionTable } from "./SubscriptionTable";

/** Commercial → Subscriptions: subscribe a customer to a published plan; one subscription's history. */
export function Subscriptions({ item }: { item: string | null }) {
  return item ? <SubscriptionDetail subscriptionId={item} /> : <SubscriptionList />;
}

function SubscriptionList() {
  const { api, can, go } = useConsole();
  const customers = useList<Customer>("/v1/customers");
  const plans = useList<Plan>("/v1/plans");
  const create = useAction();
  const [customerId, setCustomerId] = useState("");
  const [planId, setPlanId] = useState("");
  const [startAt, setStartAt] = useState("");
  const customerOptions = (customers.data?.data ?? []).map((c) => ({ value: c.id, label: `${c.external_id} (${c.name || c.id})` }));
  const planOptions = (plans.data?.data ?? []).filter((p) => p.current_version !== null)
    .map((p) => ({ value: p.id, label: `${p.name} (v${p.current_version})` }));
  const submit = async () => {
    const body = {
      customer_id: customerId || customerOptions[0]?.value,
      plan_id: planId || planOptions[0]?.value,
      ...(startAt ? { start_at: toRfc3339(startAt) } : {}),
    };
    const created = await create.call(() => api.post<Subscription>("/v1/subscriptions", body), "Subscription created.");
    if (created) go(`commercial/subscriptions/${created.id}`);
  };
  return (
    <section>
      <ScreenTitle title="Subscriptions">
        A subscription is pinned to the plan version it started on. A start in the past (up to 365 days) bills from then.
      </ScreenTitle>
      {can("customers") ? (
        <ActionForm title="New subscription" action={create} onSubmit={() => void submit()} submit="Create subscription">
          <div className="row">
            <Select label="Customer" value={customerId} onChange={setCustomerId} options={customerOptions} />
            <Select label="Plan (current published version)" value={planId} onChange={setPlanId} options={planOptions} />
            <Field label="Start at (UTC, optional)" type="datetime-local" value={startAt} onChange={setStartAt} />
          </div>
        </ActionForm>
      ) : <ReadOnlyNote area="subscriptions" />}
      <SubscriptionTable />
    </section>
  );
}

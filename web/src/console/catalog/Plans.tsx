import { useState } from "react";
import { ActionForm, Field, Select, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { Link, Loading, ReadOnlyNote, ScreenTitle, useList, Pager } from "../common";
import type { Meter, Plan } from "../types";
import { PlanDetail } from "./PlanDetail";

/** Catalog → Plans: each plan's versions (DRAFT → PUBLISHED), opened one at a time. */
export function Plans({ item }: { item: string | null }) {
  if (item) return <PlanDetail planId={item} />;
  return <PlanList />;
}

function PlanList() {
  const { api, can, go } = useConsole();
  const plans = useList<Plan>("/v1/plans");
  const meters = useList<Meter>("/v1/meters", { status: "ACTIVE" });
  const create = useAction();
  const [name, setName] = useState("");
  const [currency, setCurrency] = useState("USD");
  const [interval, setInterval] = useState("MONTH");
  const [fee, setFee] = useState("10.00");
  const [meterId, setMeterId] = useState("");
  const [unitAmount, setUnitAmount] = useState("0.10");
  const [limit, setLimit] = useState("");
  const submit = async () => {
    const usage = meterId
      ? { usage_prices: [{ meter_id: meterId, price: { model: "per_unit", currency, unit_amount: unitAmount } }],
          entitlements: limit ? [{ meter_id: meterId, limit }] : [] }
      : {};
    const body = { name, currency, billing_interval: interval,
      fees: fee ? [{ name: "Platform fee", amount: fee, timing: "in_advance" }] : [], ...usage };
    const created = await create.call(() => api.post<Plan>("/v1/plans", body), "Plan created.");
    if (created) go(`catalog/plans/${created.id}`);
  };
  const meterOptions = [{ value: "", label: "— no usage price —" },
    ...(meters.data?.data ?? []).map((m) => ({ value: m.id, label: m.event_name }))];
  return (
    <section>
      <ScreenTitle title="Plans">A plan's version 1 starts as a DRAFT; publish it before subscribing customers.</ScreenTitle>
      {can("catalog") ? (
        <ActionForm title="New plan" action={create} onSubmit={() => void submit()} submit="Create plan">
          <div className="row">
            <Field label="Plan name" value={name} onChange={setName} required />
            <Field label="Currency" value={currency} onChange={setCurrency} required />
            <Select label="Billing interval" value={interval} onChange={setInterval}
              options={["MONTH", "YEAR", "WEEK", "DAY"].map((v) => ({ value: v, label: v }))} />
            <Field label="Recurring fee" value={fee} onChange={setFee} placeholder="10.00" />
          </div>
          <div className="row">
            <Select label="Usage price: billable unit" value={meterId} onChange={setMeterId} options={meterOptions} />
            <Field label="Price per unit" value={unitAmount} onChange={setUnitAmount} />
            <Field label="Entitlement (units per period)" value={limit} onChange={setLimit} placeholder="none" />
          </div>
        </ActionForm>
      ) : <ReadOnlyNote area="the catalog" />}
      <Loading loaded={plans}>
        {(page) => (
          <Table caption="Plans" rows={page.data} rowKey={(p) => p.id} columns={[
            { label: "Name", cell: (p) => <Link route={`catalog/plans/${p.id}`}>{p.name}</Link> },
            { label: "Id", cell: (p) => <code>{p.id}</code> },
            { label: "Currency", cell: (p) => p.currency },
            { label: "Interval", cell: (p) => p.billing_interval },
            { label: "Current version", cell: (p) => p.current_version ?? "none published" },
            { label: "Latest version", cell: (p) => p.latest_version },
          ]} />
        )}
      </Loading>
      <Pager list={plans} />
    </section>
  );
}

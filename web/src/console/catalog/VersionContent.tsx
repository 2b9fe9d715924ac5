import { useState } from "react";
import { ActionForm, Field, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading } from "../common";
import type { PlanVersion } from "../types";

/** A version's fees, usage prices and entitlements; a DRAFT's first recurring fee can be changed here. */
export function VersionContent({ planId, version, status, onSaved }: {
  planId: string; version: number; status: string; onSaved: () => void;
}) {
  const { api, can } = useConsole();
  const path = `/v1/plans/${planId}/versions/${version}`;
  const loaded = useLoad(() => api.get<PlanVersion>(path), [path, status]); // reread once published
  const save = useAction();
  const [fee, setFee] = useState("");
  const submit = async (v: PlanVersion) => {
    const fees = v.fees.length > 0
      ? v.fees.map((f, i) => (i === 0 ? { ...f, amount: fee } : f))
      : [{ name: "Platform fee", amount: fee, timing: "in_advance" }];
    // PUT replaces the whole content: the prices and entitlements go back as they are.
    const body = { fees, usage_prices: v.usage_prices, entitlements: v.entitlements,
      ...(v.minimum_commitment !== null ? { minimum_commitment: v.minimum_commitment } : {}) };
    if (await save.run(() => api.put(path, body), `Version ${version} saved.`)) { loaded.reload(); onSaved(); }
  };
  return (
    <Loading loaded={loaded}>
      {(v) => (
        <div className="card" aria-label={`Version ${version}`}>
          <h2>Version {v.version} · {v.status}</h2>
          <Table caption="Fees" rows={v.fees} rowKey={(f) => f.name} columns={[
            { label: "Fee", cell: (f) => f.name }, { label: "Amount", cell: (f) => `${f.amount} ${v.currency}` },
            { label: "Timing", cell: (f) => f.timing },
          ]} />
          <Table caption="Usage prices" rows={v.usage_prices} rowKey={(u) => u.meter_id} columns={[
            { label: "Billable unit", cell: (u) => <code>{u.meter_id}</code> },
            { label: "Model", cell: (u) => u.price.model },
            { label: "Price", cell: (u) => <code>{JSON.stringify(u.price)}</code> },
          ]} />
          <Table caption="Entitlements" rows={v.entitlements} rowKey={(e) => e.meter_id} columns={[
            { label: "Billable unit", cell: (e) => <code>{e.meter_id}</code> }, { label: "Limit", cell: (e) => e.limit },
            { label: "Hard", cell: (e) => (e.hard ? "hard" : "soft") }, { label: "Reset", cell: (e) => e.reset },
          ]} />
          {v.status === "DRAFT" && can("catalog") ? (
            <ActionForm title={`Edit draft version ${version}`} action={save} onSubmit={() => void submit(v)} submit="Save draft">
              <Field label="Recurring fee amount" value={fee} onChange={setFee} required placeholder={v.fees[0]?.amount ?? "10.00"} />
            </ActionForm>
          ) : null}
        </div>
      )}
    </Loading>
  );
}

import { useEffect, useState } from "react";
import { dateTime, toRfc3339 } from "../../shared/format";
import { ActionForm, ActionResult, Field, Status, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Link, Loading, ScreenTitle, useList, Pager } from "../common";
import type { BillRun } from "../types";

const POLL_MS = 1000;

/** Billing → Bill Runs: run one now, see each one's per-subscription results, rerun the failed ones. */
export function BillRuns({ item }: { item: string | null }) {
  return item ? <BillRunDetail billRunId={item} /> : <BillRunList />;
}

function BillRunList() {
  const { api, can, go } = useConsole();
  const runs = useList<BillRun>("/v1/bill-runs");
  const start = useAction();
  const [asOf, setAsOf] = useState("");
  const submit = async () => {
    const body = asOf ? { as_of: toRfc3339(asOf) } : {};
    const run = await start.call(() => api.post<BillRun>("/v1/bill-runs", body), (r) => `Bill run ${r.id} started.`);
    if (run) go(`billing/bill-runs/${run.id}`);
  };
  return (
    <section>
      <ScreenTitle title="Bill Runs">A bill run invoices every subscription whose billing period ended by its date.</ScreenTitle>
      {can("billing") ? (
        <ActionForm title="Run billing now" action={start} onSubmit={() => void submit()} submit="Start bill run">
          <Field label="Bill periods ended by (UTC, default now)" type="datetime-local" value={asOf} onChange={setAsOf} />
        </ActionForm>
      ) : null}
      <Loading loaded={runs}>
        {(page) => (
          <Table caption="Recent bill runs" rows={page.data} rowKey={(r) => r.id} columns={[
            { label: "Bill run", cell: (r) => <Link route={`billing/bill-runs/${r.id}`}>{r.id}</Link> },
            { label: "Status", cell: (r) => <Status value={r.status} /> },
            { label: "Trigger", cell: (r) => r.trigger }, { label: "Started", cell: (r) => dateTime(r.created_at) },
            { label: "Totals", cell: (r) => Object.entries(r.totals).map(([k, v]) => `${k} ${v}`).join(", ") || "—" },
          ]} />
        )}
      </Loading>
      <Pager list={runs} />
    </section>
  );
}

function BillRunDetail({ billRunId }: { billRunId: string }) {
  const { api, can } = useConsole();
  const [tick, setTick] = useState(0);
  const run = useLoad(() => api.get<BillRun>(`/v1/bill-runs/${billRunId}`), [billRunId, tick]);
  const rerun = useAction();
  const running = run.data?.status === "RUNNING";
  useEffect(() => {
    if (!running) return undefined;
    const timer = window.setTimeout(() => setTick((t) => t + 1), POLL_MS);
    return () => window.clearTimeout(timer);
  }, [running, run.data]);
  const again = async () => {
    if (await rerun.run(() => api.post(`/v1/bill-runs/${billRunId}/rerun`), "Rerun started.")) setTick((t) => t + 1);
  };
  return (
    <section>
      <p><Link route="billing/bill-runs">← Bill Runs</Link></p>
      <Loading loaded={run}>
        {(r) => (
          <>
            <ScreenTitle title={`Bill run ${r.id}`}>
              <Status value={r.status} /> · as of {dateTime(r.as_of)} · closed {dateTime(r.closed_at)}
              {r.error ? ` · ${r.error}` : ""}
            </ScreenTitle>
            {can("billing") && !running ? <button type="button" onClick={() => void again()}>Rerun pending and failed</button> : null}
            <ActionResult action={rerun} />
            <Table caption="Results per subscription" rows={r.results} rowKey={(x) => x.subscription_id} columns={[
              { label: "Subscription", cell: (x) => <Link route={`commercial/subscriptions/${x.subscription_id}`}>{x.subscription_id}</Link> },
              { label: "Result", cell: (x) => <Status value={x.status} /> },
              { label: "Invoice", cell: (x) => (x.invoice_id ? <Link route={`billing/invoices/${x.invoice_id}`}>{x.invoice_id}</Link> : "—") },
              { label: "Period", cell: (x) => (x.period_start ? `${dateTime(x.period_start)} → ${dateTime(x.period_end)}` : "—") },
              { label: "Detail", cell: (x) => (x.error_code ? <><code>{x.error_code}</code> {x.detail}</> : x.detail || "—") },
            ]} />
          </>
        )}
      </Loading>
    </section>
  );
}

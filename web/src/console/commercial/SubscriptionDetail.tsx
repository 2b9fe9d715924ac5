import { dateTime } from "../../shared/format";
import { ActionResult, Status, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Link, Loading, ScreenTitle, useList } from "../common";
import type { HistoryLine, Subscription } from "../types";
import { SubscriptionInvoices } from "./SubscriptionInvoices";

interface RetryAnswer { subscription: Subscription; attempts: Record<string, unknown>[] }

/** One subscription: status, period, payment and dunning attempts, history; retry payment and cancel. */
export function SubscriptionDetail({ subscriptionId }: { subscriptionId: string }) {
  const { api, can } = useConsole();
  const path = `/v1/subscriptions/${subscriptionId}`;
  const sub = useLoad(() => api.get<Subscription>(path), [path]);
  const action = useAction();
  const history = useList<HistoryLine>(`${path}/history`, {}, [sub.data]);
  const retry = async () => {
    const answer = await action.call(() => api.post<RetryAnswer>(`${path}/retry-payment`),
      (a) => `Payment retried: ${a.attempts.length} attempt(s).`);
    if (answer) sub.reload();
  };
  const cancel = async () => {
    if (await action.run(() => api.delete(path), "Subscription cancelled.")) sub.reload();
  };
  return (
    <section>
      <p><Link route="commercial/subscriptions">← Subscriptions</Link></p>
      <Loading loaded={sub}>
        {(s) => (
          <>
            <ScreenTitle title={`Subscription ${s.id}`}>
              <Status value={s.status} /> · customer <Link route={`commercial/customers/${s.customer_id}`}>{s.customer_id}</Link> ·
              plan <Link route={`catalog/plans/${s.plan_id}`}>{s.plan_id}</Link> v{s.plan_version}
            </ScreenTitle>
            <dl className="facts">
              <dt>Started</dt><dd>{dateTime(s.started_at)}</dd>
              <dt>Current period</dt><dd>{s.current_period ? `${dateTime(s.current_period.start)} → ${dateTime(s.current_period.end)}` : "—"}</dd>
              <dt>Payment</dt><dd>{s.payment ? `${s.payment.state}${s.payment.overdue_since ? `, overdue since ${dateTime(s.payment.overdue_since)}` : ""}` : "—"}</dd>
              <dt>Dunning attempts</dt><dd>{s.dunning_attempts}</dd>
              <dt>Cancel at period end</dt><dd>{s.cancel_at_period_end ? "yes" : "no"}</dd>
              <dt>Keys</dt><dd>{s.keys.map((k) => `${k.display} (${k.status})`).join(", ") || "none"}</dd>
            </dl>
            {can("customers") ? (
              <div>
                <button type="button" onClick={() => void retry()}>Retry payment</button>
                <button type="button" className="secondary" onClick={() => void cancel()}>Cancel subscription</button>
              </div>
            ) : null}
            <ActionResult action={action} />
          </>
        )}
      </Loading>
      <SubscriptionInvoices subscriptionId={subscriptionId} reloadKey={sub.data} />
      <Loading loaded={history}>
        {(page) => (
          <Table caption="History" rows={page.data} rowKey={(h) => `${h.at}-${h.action}`} columns={[
            { label: "At", cell: (h) => dateTime(h.at) }, { label: "Action", cell: (h) => h.action },
            { label: "Status", cell: (h) => `${h.from_status ?? "—"} → ${h.to_status}` },
            { label: "Detail", cell: (h) => <code>{JSON.stringify(h.detail)}</code> },
          ]} />
        )}
      </Loading>
    </section>
  );
}

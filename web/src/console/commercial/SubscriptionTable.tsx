import { dateTime } from "../../shared/format";
import { Status, Table } from "../../shared/ui";
import { Link, Loading, useList, Pager } from "../common";
import type { Subscription } from "../types";

export function SubscriptionTable({ customerId, reloadKey = 0 }: { customerId?: string; reloadKey?: number }) {
  const subs = useList<Subscription>("/v1/subscriptions", customerId ? { customer_id: customerId } : {}, [reloadKey]);
  return (
    <>
    <Loading loaded={subs}>
      {(page) => (
        <Table caption="Subscriptions" rows={page.data} rowKey={(s) => s.id} columns={[
          { label: "Subscription", cell: (s) => <Link route={`commercial/subscriptions/${s.id}`}>{s.id}</Link> },
          { label: "Customer", cell: (s) => <Link route={`commercial/customers/${s.customer_id}`}>{s.customer_id}</Link> },
          { label: "Status", cell: (s) => <Status value={s.status} /> },
          { label: "Plan", cell: (s) => `${s.plan_id} v${s.plan_version}` },
          { label: "Current period", cell: (s) => s.current_period ? `${dateTime(s.current_period.start)} → ${dateTime(s.current_period.end)}` : "—" },
          { label: "Dunning attempts", cell: (s) => s.dunning_attempts },
        ]} />
      )}
    </Loading>
    <Pager list={subs} />
    </>
  );
}

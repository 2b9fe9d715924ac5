// The usage dashboard (seed 002: "the usage dashboard in the Developer Portal shows 0"): each meter of each
// live subscription against its entitlement for the current period, as a bar and a daily chart.

import { Chart } from "../shared/Chart";
import { dateTime } from "../shared/format";
import { ProblemBox } from "../shared/ProblemBox";
import { useLoad } from "../shared/useApi";
import { usePortal } from "./context";
import type { MeterUsage, SubscriptionUsage } from "./types";

export function Usage() {
  const { api, version } = usePortal();
  const usage = useLoad(() => api.get<{ data: SubscriptionUsage[] }>("/v1/portal/usage"), [version]);
  return (
    <section aria-labelledby="usage-title" id="usage">
      <h2 id="usage-title">Usage</h2>
      {usage.problem ? <ProblemBox problem={usage.problem} /> : null}
      {usage.data === null && !usage.problem ? <p aria-busy="true">Loading…</p> : null}
      {usage.data && usage.data.data.length === 0 ? <p>No live subscription: nothing is metered.</p> : null}
      {usage.data?.data.map((s) => (
        <div key={s.subscription_id} className="card">
          <p className="note">
            Period {dateTime(s.period.start)} – {dateTime(s.period.end)} · as of {dateTime(s.as_of)} ·{" "}
            <code>{s.subscription_id}</code>
          </p>
          {s.meters.length === 0 ? <p>This plan meters nothing.</p> : null}
          {s.meters.map((m) => <MeterCard key={m.meter_id} meter={m} />)}
        </div>
      ))}
    </section>
  );
}

function percent(used: string, limit: string | null): number | null {
  if (limit === null) return null;
  const l = Number(limit);
  if (!Number.isFinite(l) || l <= 0) return null;
  return Math.min(100, Math.round((Number(used) / l) * 1000) / 10);
}

function MeterCard({ meter }: { meter: MeterUsage }) {
  const share = percent(meter.used, meter.limit);
  const name = meter.name || meter.event_name;
  const text = meter.limit === null
    ? `${meter.used} used (no limit)`
    : `${meter.used} of ${meter.limit} used (${share ?? 0}%)`;
  const over = meter.limit !== null && Number(meter.used) >= Number(meter.limit);
  return (
    <div className="meter-card">
      <h3>{name} <small><code>{meter.event_name}</code></small></h3>
      <div role="meter" aria-label={`${name} usage against the entitlement`} aria-valuemin={0}
        aria-valuemax={meter.limit === null ? undefined : Number(meter.limit)} aria-valuenow={Number(meter.used)}
        aria-valuetext={text} className={`bar${over ? " over" : ""}`}>
        <span style={{ width: `${share ?? 0}%` }} />
      </div>
      <p className="bar-text" data-testid="usage-text">
        {text}
        {meter.limit !== null ? (meter.hard ? " · requests past the limit are refused" : " · overage is billed") : ""}
        {meter.reset !== "PERIODIC" ? " · counted since the subscription began" : ""}
      </p>
      <Chart title={`${name} per ${meter.reset === "PERIODIC" ? "day" : "month"}`} kind="bar"
        labels={meter.series.map((p) => p.from.slice(0, 10))}
        series={[{ label: name, values: meter.series.map((p) => Number(p.value)) }]} />
    </div>
  );
}

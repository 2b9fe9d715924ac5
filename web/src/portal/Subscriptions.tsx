// The Subscriptions page (seed 002: "check the active key in the Developer Portal -> Subscriptions"): each
// subscription with its plan, period and keys; regenerate a key (new secret shown once, old one revoked),
// change plan (upgrade now, downgrade at the period end) and cancel.

import { useState } from "react";
import { dateTime } from "../shared/format";
import { ProblemBox } from "../shared/ProblemBox";
import { ActionResult, Select, Status } from "../shared/ui";
import { useAction, useLoad } from "../shared/useApi";
import { usePortal } from "./context";
import type { BoundKey, IssuedKey, PlanChoice, Regenerated, Subscription } from "./types";

export function Subscriptions() {
  const { api, version } = usePortal();
  const subs = useLoad(() => api.get<{ data: Subscription[] }>("/v1/portal/subscriptions"), [version]);
  return (
    <section aria-labelledby="subscriptions-title" id="subscriptions">
      <h2 id="subscriptions-title">Subscriptions</h2>
      {subs.problem ? <ProblemBox problem={subs.problem} /> : null}
      {subs.data === null && !subs.problem ? <p aria-busy="true">Loading…</p> : null}
      {subs.data && subs.data.data.length === 0 ? <p>No subscriptions yet.</p> : null}
      {subs.data?.data.map((s) => <SubscriptionCard key={s.id} sub={s} />)}
    </section>
  );
}

function SubscriptionCard({ sub }: { sub: Subscription }) {
  const live = !["CANCELLED", "EXPIRED"].includes(sub.status);
  return (
    <article className="card" aria-label={`Subscription ${sub.plan_name}`}>
      <h3>
        {sub.plan_name} <Status value={sub.status} />
      </h3>
      <dl className="facts">
        <div><dt>Subscription</dt><dd><code>{sub.id}</code></dd></div>
        {sub.current_period ? (
          <div><dt>Current period</dt><dd>{dateTime(sub.current_period.start)} – {dateTime(sub.current_period.end)}</dd></div>
        ) : null}
        {sub.pending_plan ? (
          <div><dt>Plan change</dt><dd>to {sub.pending_plan.plan_id} v{sub.pending_plan.version} at the period end</dd></div>
        ) : null}
        {sub.cancel_at_period_end ? <div><dt>Ends</dt><dd>at the end of this period</dd></div> : null}
        {sub.payment && sub.payment.state !== "paid" ? (
          <div><dt>Payment</dt><dd>{sub.payment.state}: update your payment method below</dd></div>
        ) : null}
      </dl>
      <Keys sub={sub} live={live} />
      {live ? <PlanChange sub={sub} /> : null}
      {live ? <Cancel sub={sub} /> : null}
    </article>
  );
}

function Keys({ sub, live }: { sub: Subscription; live: boolean }) {
  const { api, refresh } = usePortal();
  const action = useAction();
  const [shown, setShown] = useState<IssuedKey | null>(null);
  const active = sub.keys.filter((k) => k.status === "ACTIVE");
  const regenerate = async (key: BoundKey) => {
    const done = await action.call(
      () => api.post<Regenerated>(`/v1/portal/subscriptions/${sub.id}/keys/${key.id}/regenerate`),
      (r) => `Key ${r.revoked.display} is revoked; use the new key below from now on.`,
    );
    if (done) {
      setShown(done.key);
      refresh();
    }
  };
  const create = async () => {
    const done = await action.call(() => api.post<IssuedKey>(`/v1/portal/subscriptions/${sub.id}/keys`), "Key created.");
    if (done) {
      setShown(done);
      refresh();
    }
  };
  return (
    <div className="keys">
      <div className="scroll">
        <table>
          <caption>API keys</caption>
          <thead>
            <tr><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Action</th></tr>
          </thead>
          <tbody>
            {sub.keys.length === 0 ? <tr><td colSpan={3}>No key yet.</td></tr> : null}
            {sub.keys.map((k) => (
              <tr key={k.id}>
                <td><code>{k.display}</code></td>
                <td><Status value={k.status} /></td>
                <td>
                  {k.status === "ACTIVE" && live ? (
                    <ConfirmButton label={`Regenerate key ${k.display}`} text="Regenerate" busy={action.busy}
                      confirm="Yes, revoke it and make a new key" onConfirm={() => void regenerate(k)} />
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {live && active.length === 0 ? (
        <button type="button" disabled={action.busy} onClick={() => void create()}>Create a key</button>
      ) : null}
      <ActionResult action={action} />
      {shown?.secret ? <NewSecret issued={shown} onDone={() => setShown(null)} /> : null}
    </div>
  );
}

/** The new key's secret: shown here once, never again (the API stores only its hash). */
function NewSecret({ issued, onDone }: { issued: IssuedKey; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const secret = issued.secret ?? "";
  return (
    <div className="secret" role="region" aria-label="New API key">
      <p><strong>Your new API key</strong> — copy it now: it is shown only once.</p>
      <code data-testid="new-secret">{secret}</code>
      <div>
        <button type="button" className="secondary"
          onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true), () => setCopied(false))}>
          Copy key
        </button>
        <button type="button" className="secondary" onClick={onDone}>I have saved it</button>
        {copied ? <span role="status"> Copied.</span> : null}
      </div>
    </div>
  );
}

/** A button that asks once more before an irreversible change (keyboard: Tab to it, Enter twice). */
export function ConfirmButton({ label, text, confirm, busy, onConfirm, danger = false }: {
  label: string;
  text: string;
  confirm: string;
  busy: boolean;
  onConfirm: () => void;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={danger ? "danger" : "secondary"} aria-label={label} disabled={busy}
        onClick={() => setAsking(true)}>{text}</button>
    );
  }
  return (
    <span className="confirm">
      <button type="button" className={danger ? "danger" : undefined} disabled={busy} autoFocus
        onClick={() => { setAsking(false); onConfirm(); }}>{confirm}</button>
      <button type="button" className="secondary" onClick={() => setAsking(false)}>Keep it</button>
    </span>
  );
}

function PlanChange({ sub }: { sub: Subscription }) {
  const { api, refresh, version } = usePortal();
  const choices = useLoad(() => api.get<{ data: PlanChoice[] }>(`/v1/portal/subscriptions/${sub.id}/plans`), [sub.id, version]);
  const [target, setTarget] = useState("");
  const action = useAction();
  const options = choices.data?.data ?? [];
  if (choices.problem) return <ProblemBox problem={choices.problem} />;
  if (options.length === 0) return null;
  const chosen = options.find((c) => c.plan_id === target) ?? options[0];
  const change = (direction: "upgrade" | "downgrade") => {
    if (!chosen) return;
    const when = direction === "upgrade" ? "now (prorated)" : "at the end of the period";
    void action
      .run(
        () => api.post(`/v1/portal/subscriptions/${sub.id}/${direction}`, { plan_id: chosen.plan_id, version: chosen.version }),
        `Moving to ${chosen.name} ${when}.`,
      )
      .then((ok) => ok && refresh());
  };
  return (
    <form className="plan-change" aria-label={`Change the plan of ${sub.plan_name}`} onSubmit={(e) => e.preventDefault()}>
      <h4>Change plan</h4>
      <Select label="New plan" value={chosen?.plan_id ?? ""} onChange={setTarget}
        options={options.map((c) => ({ value: c.plan_id, label: `${c.name} — ${c.recurring_fees} ${c.currency} per ${c.interval.toLowerCase()}` }))} />
      <button type="button" disabled={action.busy} onClick={() => change("upgrade")}>Upgrade now</button>
      <button type="button" className="secondary" disabled={action.busy} onClick={() => change("downgrade")}>
        Downgrade at period end
      </button>
      <ActionResult action={action} />
    </form>
  );
}

function Cancel({ sub }: { sub: Subscription }) {
  const { api, refresh } = usePortal();
  const action = useAction();
  const cancel = (atPeriodEnd: boolean) =>
    void action
      .run(
        () => api.delete(`/v1/portal/subscriptions/${sub.id}${atPeriodEnd ? "?at_period_end=true" : ""}`),
        atPeriodEnd ? "The subscription ends at the end of this period." : "The subscription is cancelled; its keys are revoked.",
      )
      .then((ok) => ok && refresh());
  if (sub.cancel_at_period_end) return null;
  return (
    <div className="cancel">
      <h4>Cancel</h4>
      <ConfirmButton label={`Cancel ${sub.plan_name} at the period end`} text="Cancel at period end" busy={action.busy}
        confirm="Yes, cancel at period end" onConfirm={() => cancel(true)} />
      <ConfirmButton label={`Cancel ${sub.plan_name} now`} text="Cancel now" danger busy={action.busy}
        confirm="Yes, cancel now and revoke its keys" onConfirm={() => cancel(false)} />
      <ActionResult action={action} />
    </div>
  );
}

// The customer portal: one page with the customer's subscriptions (and keys), usage, invoices and
// payment method, opened from a portal session link (POST /v1/portal-sessions).

import { useCallback, useMemo, useState } from "react";
import { ApiClient } from "../shared/api";
import { dateTime } from "../shared/format";
import { ProblemBox } from "../shared/ProblemBox";
import { useLoad } from "../shared/useApi";
import { Portal } from "./context";
import { Invoices } from "./Invoices";
import { PaymentMethod } from "./PaymentMethod";
import { forgetSessionToken } from "./session";
import { Subscriptions } from "./Subscriptions";
import type { Me } from "./types";
import { Usage } from "./Usage";

export function App({ token }: { token: string | null }) {
  if (!token) {
    return (
      <main className="portal">
        <h1>Customer portal</h1>
        <p role="alert">
          This page opens from the link your provider gives you (it is valid for one hour). Ask them for a new
          link to manage your subscriptions, keys, usage and payment method.
        </p>
      </main>
    );
  }
  return <Signed token={token} />;
}

function Signed({ token }: { token: string }) {
  const api = useMemo(() => new ApiClient({ key: token, tenantId: null }), [token]);
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  const me = useLoad(() => api.get<Me>("/v1/portal/me"), [version]);
  const context = useMemo(() => ({ api, refresh, version }), [api, refresh, version]);
  if (me.problem) {
    if (me.problem.status === 401) forgetSessionToken();
    return (
      <main className="portal">
        <h1>Customer portal</h1>
        <ProblemBox problem={me.problem} />
      </main>
    );
  }
  if (!me.data) return <main className="portal"><p aria-busy="true">Loading…</p></main>;
  return (
    <Portal.Provider value={context}>
      <header className="portal-top">
        <div>
          <h1>Customer portal</h1>
          <p className="lead">
            {me.data.customer_name || me.data.customer_id}
            {me.data.customer_email ? ` · ${me.data.customer_email}` : ""}
          </p>
        </div>
        <nav aria-label="Portal sections" className="portal-nav">
          <a href="#subscriptions">Subscriptions</a>
          <a href="#usage">Usage</a>
          <a href="#invoices">Invoices</a>
          <a href="#payment">Payment method</a>
          {me.data.return_url ? <a href={me.data.return_url}>Back to the site</a> : null}
        </nav>
      </header>
      <main className="portal">
        <Subscriptions />
        <Usage />
        <Invoices />
        <PaymentMethod current={me.data.payment_method} onChanged={refresh} />
        <p className="note">This session ends at {dateTime(me.data.expires_at)}.</p>
      </main>
    </Portal.Provider>
  );
}

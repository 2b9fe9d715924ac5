import { useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle } from "../common";

/** Settings → Payments: the payment provider, dunning schedule and grace period (secrets are never shown). */
export function Payments() {
  const { api } = useConsole();
  const settings = useLoad(() => api.get<Record<string, unknown>>("/v1/settings/payments"), []);
  return (
    <section>
      <ScreenTitle title="Payments">Change these with PUT /v1/settings/payments.</ScreenTitle>
      <Loading loaded={settings}>
        {(s) => (
          <dl className="facts">
            {Object.entries(s).map(([k, v]) => (
              <div key={k}><dt>{k.replace(/_/g, " ")}</dt><dd>{Array.isArray(v) ? v.join(", ") : v === null ? "—" : String(v)}</dd></div>
            ))}
          </dl>
        )}
      </Loading>
    </section>
  );
}

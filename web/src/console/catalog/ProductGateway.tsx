import { useState } from "react";
import { ApiError, type Page } from "../../shared/api";
import { dateTime } from "../../shared/format";
import { ActionForm, ActionResult, Field, Select, Status } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading } from "../common";

interface GatewayLink {
  integration_id: string; target: Record<string, string>; state: string; diff: Record<string, unknown>[];
  diff_truncated: boolean; last_synced_at: string | null; last_checked_at: string | null;
  error_code: string | null; detail: string | null; fix: string | null;
}

/** A product's gateway link (…/gateway): state and drift diff; Sync, Check drift and "Restore to Gateway". */
export function ProductGateway({ productId }: { productId: string }) {
  const { api, can } = useConsole();
  const path = `/v1/products/${productId}/gateway`;
  const link = useLoad(async () => {
    try {
      return await api.get<GatewayLink>(path);
    } catch (error: unknown) {
      if (error instanceof ApiError && error.problem.status === 404) return null;
      throw error;
    }
  }, [path]);
  const action = useAction();
  const act = async (verb: string, label: string) => {
    const answer = await action.call(() => api.post<GatewayLink>(`${path}/${verb}`), (l) => `${label}: ${l.state}.`);
    if (answer) link.reload();
  };
  return (
    <div className="card">
      <h2>Gateway</h2>
      <ActionResult action={action} />
      <Loading loaded={link}>
        {(l) => l === null ? <LinkForm path={path} onLinked={link.reload} /> : (
          <>
            <p><Status value={l.state} /> · integration <code>{l.integration_id}</code> · target <code>{JSON.stringify(l.target)}</code> ·
              last synced {dateTime(l.last_synced_at)} · last checked {dateTime(l.last_checked_at)}</p>
            {l.error_code ? <p role="alert"><code>{l.error_code}</code> {l.detail} <strong>Fix:</strong> {l.fix}</p> : null}
            {can("catalog") ? (
              <div>
                <button type="button" onClick={() => void act("sync", "Sync")}>Sync to Gateway</button>
                <button type="button" className="secondary" onClick={() => void act("check", "Drift check")}>Check drift</button>
                <button type="button" className="secondary" onClick={() => void act("restore", "Restore")}>Restore to Gateway</button>
              </div>
            ) : null}
            <h3>Drift (what Tollgate would push){l.diff_truncated ? ", first 200 operations" : ""}</h3>
            {l.diff.length === 0 ? <p>None: the gateway matches.</p> : <pre>{JSON.stringify(l.diff, null, 2)}</pre>}
          </>
        )}
      </Loading>
    </div>
  );
}

function LinkForm({ path, onLinked }: { path: string; onLinked: () => void }) {
  const { api, can } = useConsole();
  const integrations = useLoad(() => api.get<Page<{ id: string; name: string; type: string }>>("/v1/integrations", { limit: 100 })
    .catch(() => ({ data: [], has_more: false, next_cursor: null })), []);
  const link = useAction();
  const [integrationId, setIntegrationId] = useState("");
  const [target, setTarget] = useState('{"rest_api_id": "", "stage": "prod"}');
  const options = (integrations.data?.data ?? []).map((i) => ({ value: i.id, label: `${i.name} (${i.type})` }));
  if (!can("catalog")) return <p>Not linked to a gateway.</p>;
  if (options.length === 0) return <p>Not linked: connect a gateway first (Settings → Integrations).</p>;
  const submit = async () => {
    const body = { integration_id: integrationId || options[0]?.value, target: JSON.parse(target) as unknown };
    if (await link.run(() => api.put(path, body), "Linked (NOT_SYNCED until a sync).")) onLinked();
  };
  return (
    <ActionForm title="Link to a gateway" action={link} onSubmit={() => void submit()} submit="Link product">
      <Select label="Integration" value={integrationId} onChange={setIntegrationId} options={options} />
      <Field label="Target (JSON: AWS rest_api_id + stage, Kong service, APIM api_id, Apigee proxy)" value={target} onChange={setTarget} />
    </ActionForm>
  );
}

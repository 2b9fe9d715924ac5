import { useState } from "react";
import { dateTime } from "../../shared/format";
import { ActionForm, ActionResult, Field, Select, Status, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle, useList, Pager } from "../common";
import type { ApiKey } from "../types";

const ROLES = ["ADMIN", "MEMBER", "BILLING_ADMIN", "GATEWAY", "OWNER"];

/** Settings → API Keys: operator keys (shown once at creation), revoke. */
export function ApiKeys() {
  const { api, can } = useConsole();
  const [tick, setTick] = useState(0);
  const keys = useList<ApiKey>("/v1/api-keys", {}, [tick]);
  const create = useAction();
  const revoke = useAction();
  const [role, setRole] = useState("MEMBER");
  const [name, setName] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const submit = async () => {
    const key = await create.call(() => api.post<ApiKey>("/v1/api-keys", { kind: "operator", role, name }), "Key created: copy it now, it is shown once.");
    if (key) { setSecret(key.secret); setTick((t) => t + 1); }
  };
  const revokeKey = async (k: ApiKey) => {
    if (await revoke.run(() => api.delete(`/v1/api-keys/${k.id}`), `Key ${k.display} revoked.`)) setTick((t) => t + 1);
  };
  return (
    <section>
      <ScreenTitle title="API Keys">Operator keys (afo_…) carry a role; customer keys (sk_…) belong to one subscription.</ScreenTitle>
      {can("keys") ? (
        <ActionForm title="New operator key" action={create} onSubmit={() => void submit()} submit="Create key">
          <div className="row">
            <Select label="Role" value={role} onChange={setRole} options={ROLES.map((r) => ({ value: r, label: r }))} />
            <Field label="Key name" value={name} onChange={setName} />
          </div>
          {secret ? <p>New key: <code data-testid="new-key">{secret}</code></p> : null}
        </ActionForm>
      ) : null}
      <ActionResult action={revoke} />
      <Loading loaded={keys}>
        {(page) => (
          <Table caption="Keys" rows={page.data} rowKey={(k) => k.id} columns={[
            { label: "Key", cell: (k) => <code>{k.display}</code> }, { label: "Kind", cell: (k) => k.kind },
            { label: "Role", cell: (k) => k.role ?? "—" }, { label: "Name", cell: (k) => k.name || "—" },
            { label: "Status", cell: (k) => <Status value={k.status} /> },
            { label: "Last used", cell: (k) => dateTime(k.last_used_at) },
            { label: "Actions", cell: (k) => can("keys") && k.status === "ACTIVE" ? (
              <button type="button" className="secondary" onClick={() => void revokeKey(k)}>Revoke {k.display}</button>) : null },
          ]} />
        )}
      </Loading>
      <Pager list={keys} />
    </section>
  );
}

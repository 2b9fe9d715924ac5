import { ApiError, type Page } from "../../shared/api";
import { dateTime } from "../../shared/format";
import { ActionResult, Status, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle } from "../common";

interface Integration {
  id: string; type: string; name: string; status: string; error_code: string | null; detail: string | null;
  fix: string | null; last_checked_at: string | null; credentials_set: boolean;
}

/** Settings → Integrations (the seeds' "Governance → Integrations → Test Connection"): the gateways Tollgate
 * manages, each with its last Test Connection result, cause and fix. Connect one with the API's
 * /v1/integrations; deployments without that API say so here. */
export function Integrations() {
  const { api, can } = useConsole();
  const list = useLoad(async () => {
    try {
      return await api.get<Page<Integration>>("/v1/integrations", { limit: 100 });
    } catch (error: unknown) {
      if (error instanceof ApiError && error.problem.status === 404) return null;
      throw error;
    }
  }, []);
  const test = useAction();
  const check = async (i: Integration) => {
    const answer = await test.call(() => api.post<Integration>(`/v1/integrations/${i.id}/test`),
      (r) => `Test Connection of ${r.name}: ${r.status}${r.error_code ? ` (${r.error_code}: ${r.detail ?? ""} ${r.fix ?? ""})` : ""}`);
    if (answer) list.reload();
  };
  return (
    <section>
      <ScreenTitle title="Integrations">API gateways whose plans and keys Tollgate keeps in sync.</ScreenTitle>
      <ActionResult action={test} />
      <Loading loaded={list}>
        {(page) => page === null ? <p>This deployment has no gateway integrations API yet.</p> : (
          <Table caption="Integrations" rows={page.data} rowKey={(i) => i.id} columns={[
            { label: "Integration", cell: (i) => i.name }, { label: "Type", cell: (i) => i.type },
            { label: "Status", cell: (i) => <Status value={i.status} /> },
            { label: "Last checked", cell: (i) => dateTime(i.last_checked_at) },
            { label: "Problem and fix", cell: (i) => (i.error_code ? <><code>{i.error_code}</code> {i.detail} <em>{i.fix}</em></> : "—") },
            { label: "Actions", cell: (i) => can("integrations") ? (
              <button type="button" onClick={() => void check(i)} aria-label={`Test Connection of ${i.name}`}>Test Connection</button>) : null },
          ]} />
        )}
      </Loading>
    </section>
  );
}

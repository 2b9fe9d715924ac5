import { ApiError, type Page } from "../../shared/api";
import { ActionResult, Status, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle } from "../common";

interface Integration { id: string; name?: string; provider?: string; status?: string }

/** Settings → Integrations ("Governance → Integrations → Test Connection"): shown once /v1/integrations exists. */
export function Integrations() {
  const { api, can } = useConsole();
  const list = useLoad(async () => {
    try {
      return await api.get<Page<Integration>>("/v1/integrations");
    } catch (error: unknown) {
      if (error instanceof ApiError && error.problem.status === 404) return null;
      throw error;
    }
  }, []);
  const test = useAction();
  return (
    <section>
      <ScreenTitle title="Integrations" />
      {!list.loading && list.data === null && !list.problem ? <p>This deployment has no gateway integrations API yet.</p> : null}
      <ActionResult action={test} />
      <Loading loaded={list}>
        {(page) => page ? (
          <Table caption="Integrations" rows={page.data} rowKey={(i) => i.id} columns={[
            { label: "Integration", cell: (i) => i.name ?? i.provider ?? i.id }, { label: "Status", cell: (i) => <Status value={i.status} /> },
            { label: "Actions", cell: (i) => can("billing") ? (
              <button type="button" onClick={() => void test.call(() => api.post<Record<string, unknown>>(`/v1/integrations/${i.id}/test`),
                (r) => `Test Connection: ${JSON.stringify(r)}`)}>Test Connection</button>) : null },
          ]} />
        ) : null}
      </Loading>
    </section>
  );
}

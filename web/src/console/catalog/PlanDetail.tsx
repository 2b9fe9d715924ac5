import { useState } from "react";
import { dateTime } from "../../shared/format";
import { ActionResult, Status, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Link, Loading, ScreenTitle } from "../common";
import type { Plan, PlanVersion, VersionSummary } from "../types";
import { VersionContent } from "./VersionContent";

/** One plan: its versions with publish / archive / new draft, and the content of the version opened. */
export function PlanDetail({ planId }: { planId: string }) {
  const { api, can } = useConsole();
  const plan = useLoad(() => api.get<Plan>(`/v1/plans/${planId}`), [planId]);
  const [opened, setOpened] = useState<number | null>(null);
  const action = useAction();
  const act = async (work: () => Promise<unknown>, done: string) => {
    if (await action.run(work, done)) plan.reload();
  };
  const newDraft = async () => {
    const draft = await action.call(() => api.post<PlanVersion>(`/v1/plans/${planId}/versions`), (v) => `Version ${v.version} (DRAFT) created.`);
    if (draft) { setOpened(draft.version); plan.reload(); }
  };
  const base = `/v1/plans/${planId}/versions`;
  const buttons = (v: VersionSummary) => {
    if (!can("catalog")) return null;
    return (
      <>
        {v.status === "DRAFT" ? (
          <button type="button" onClick={() => void act(() => api.post(`${base}/${v.version}/publish`), `Version ${v.version} published.`)}>
            Publish version {v.version}
          </button>
        ) : null}
        {v.status !== "ARCHIVED" ? (
          <button type="button" className="secondary"
            onClick={() => void act(() => api.post(`${base}/${v.version}/archive`), `Version ${v.version} archived.`)}>
            Archive version {v.version}
          </button>
        ) : null}
      </>
    );
  };
  return (
    <section>
      <p><Link route="catalog/plans">← Plans</Link></p>
      <Loading loaded={plan}>
        {(p) => (
          <>
            <ScreenTitle title={`Plan ${p.name}`}>
              <code>{p.id}</code> · {p.currency} · {p.billing_interval} · current version {p.current_version ?? "none"}
            </ScreenTitle>
            {can("catalog") ? <button type="button" onClick={() => void newDraft()}>New draft version</button> : null}
            <ActionResult action={action} />
            <Table caption="Versions" rows={p.versions ?? []} rowKey={(v) => String(v.version)} columns={[
              { label: "Version", cell: (v) => <button type="button" className="secondary" onClick={() => setOpened(v.version)}>Open version {v.version}</button> },
              { label: "Status", cell: (v) => <Status value={v.status} /> },
              { label: "Current", cell: (v) => (v.current ? "yes" : v.superseded ? "superseded" : "no") },
              { label: "Published", cell: (v) => dateTime(v.published_at) },
              { label: "Actions", cell: buttons },
            ]} />
            {opened !== null ? (
              <VersionContent planId={planId} version={opened} onSaved={plan.reload}
                status={p.versions?.find((v) => v.version === opened)?.status ?? ""} />
            ) : null}
          </>
        )}
      </Loading>
    </section>
  );
}

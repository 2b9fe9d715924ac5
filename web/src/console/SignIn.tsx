import { useState } from "react";
import { ProblemBox } from "../shared/ProblemBox";
import { Field } from "../shared/ui";
import { toProblem, type Problem } from "../shared/api";
import { signIn, type Session } from "./session";

/** Sign in with an operator key (afo_…) and the tenant id it acts for. */
export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState("");
  const [tenantId, setTenantId] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setProblem(null);
    try {
      onSignedIn(await signIn(key.trim(), tenantId.trim()));
    } catch (error: unknown) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <h1>Tollgate console</h1>
      <form aria-label="Sign in" className="card" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <h2>Sign in</h2>
        <p>Use an operator key (afo_…) and the tenant id it belongs to. The key stays in this tab only.</p>
        <Field label="Tenant id" value={tenantId} onChange={setTenantId} required placeholder="ten_…" />
        <Field label="Operator key" type="password" value={key} onChange={setKey} required placeholder="afo_…" />
        <button type="submit" disabled={busy}>Sign in</button>
        <ProblemBox problem={problem} />
      </form>
    </main>
  );
}

import type { Problem } from "./api";

/** An RFC 7807 problem as the user sees it: what went wrong, what to do, and the id to quote to support. */
export function ProblemBox({ problem }: { problem: Problem | null }) {
  if (!problem) return null;
  return (
    <div role="alert" className="problem" data-code={problem.code}>
      <strong>{problem.title}</strong> <code>{problem.code}</code>
      <p>{problem.detail}</p>
      {problem.requestId ? <small>Request id: {problem.requestId}</small> : null}
    </div>
  );
}

import { useState } from "react";
import { toProblem, type Problem } from "../../shared/api";
import { ProblemBox } from "../../shared/ProblemBox";
import { useConsole } from "../context";

/** Download GET /v1/invoices/{id}/pdf (the key goes in a header, so the file is fetched, then saved). */
export function PdfLink({ invoiceId }: { invoiceId: string }) {
  const { api } = useConsole();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    setProblem(null);
    try {
      const blob = await api.blob(`/v1/invoices/${invoiceId}/pdf`);
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${invoiceId}.pdf`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error: unknown) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span>
      <button type="button" onClick={() => void download()} disabled={busy} data-href={`/v1/invoices/${invoiceId}/pdf`}>
        Download PDF
      </button>
      <ProblemBox problem={problem} />
    </span>
  );
}

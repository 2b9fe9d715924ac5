import { useEffect, useState } from "react";
import { ActionForm, Field } from "../../shared/ui";
import { TextArea } from "../../shared/TextArea";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle } from "../common";

interface BillingSettings {
  sender_email: string | null; sender_name: string; legal_name?: string; address?: string[];
  payment_terms_days: number; invoice_grace_period_days: number; tax: Record<string, unknown>;
  [field: string]: unknown;
}

interface Draft { legal_name: string; address: string; sender_email: string; sender_name: string; terms: string; grace: string }

const READ_ONLY = ["updated_at", "revision"];

/** The tax settings as PUT takes them: decimal strings, and each rate's own fields only. */
function taxForPut(tax: Record<string, unknown>): Record<string, unknown> {
  const rates = Array.isArray(tax.rates) ? (tax.rates as Record<string, unknown>[]) : [];
  return {
    ...tax,
    timeout_seconds: String(tax.timeout_seconds ?? "5"),
    rates: rates.map((r) => ({ name: String(r.name ?? "Tax"), rate_percent: String(r.rate_percent ?? "0") })),
  };
}

function draftOf(s: BillingSettings): Draft {
  return {
    legal_name: s.legal_name ?? "", address: (s.address ?? []).join("\n"), sender_email: s.sender_email ?? "",
    sender_name: s.sender_name, terms: String(s.payment_terms_days), grace: String(s.invoice_grace_period_days),
  };
}

/** Settings → Finance (GET/PUT /v1/settings/billing): who issues the invoices (on the PDF), the invoice
 * sender (verified with the email provider), payment terms; every other setting is sent back as it is. */
export function Finance() {
  const { api, can } = useConsole();
  const settings = useLoad(() => api.get<BillingSettings>("/v1/settings/billing"), []);
  const save = useAction();
  const [draft, setDraft] = useState<Draft | null>(null);
  useEffect(() => { if (settings.data) setDraft(draftOf(settings.data)); }, [settings.data]);
  const set = (field: keyof Draft) => (value: string) => setDraft((d) => (d ? { ...d, [field]: value } : d));
  const submit = async (current: BillingSettings, d: Draft) => {
    const body: Record<string, unknown> = Object.fromEntries(Object.entries(current).filter(([k]) => !READ_ONLY.includes(k)));
    Object.assign(body, {
      sender_email: d.sender_email.trim() || null, sender_name: d.sender_name, tax: taxForPut(current.tax),
      payment_terms_days: Number.parseInt(d.terms, 10) || 0, invoice_grace_period_days: Number.parseInt(d.grace, 10) || 0,
    });
    if ("legal_name" in current) body.legal_name = d.legal_name;
    if ("address" in current) body.address = d.address.split("\n").map((l) => l.trim()).filter(Boolean);
    if (await save.run(() => api.put("/v1/settings/billing", body), "Finance settings saved.")) settings.reload();
  };
  return (
    <section>
      <ScreenTitle title="Finance">Invoices are emailed from the sender below: verify it with your email provider.</ScreenTitle>
      <Loading loaded={settings}>
        {(current) => (draft && can("billing") ? (
          <ActionForm title="Billing settings" action={save} onSubmit={() => void submit(current, draft)} submit="Save settings">
            {"legal_name" in current ? <Field label="Legal name (on invoices)" value={draft.legal_name} onChange={set("legal_name")} /> : null}
            {"address" in current ? <TextArea label="Address (one line each)" value={draft.address} onChange={set("address")} /> : null}
            <Field label="Sender email" type="email" value={draft.sender_email} onChange={set("sender_email")} />
            <Field label="Sender name" value={draft.sender_name} onChange={set("sender_name")} />
            <Field label="Payment terms (days)" type="number" value={draft.terms} onChange={set("terms")} />
            <Field label="Invoice grace period (days)" type="number" value={draft.grace} onChange={set("grace")} />
            <p>Tax: <code>{JSON.stringify(current.tax)}</code></p>
          </ActionForm>
        ) : <pre>{JSON.stringify(current, null, 2)}</pre>)}
      </Loading>
    </section>
  );
}

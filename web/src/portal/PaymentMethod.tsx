// The payment method (seed 000: "If payment method is outdated, direct customer to update it in the
// portal"). The sandbox payment provider's test methods are offered by name; any other pm_… id may be typed.

import { useState } from "react";
import { ActionForm, Field, Select } from "../shared/ui";
import { useAction } from "../shared/useApi";
import { usePortal } from "./context";

const SANDBOX_METHODS = [
  { value: "pm_card_visa", label: "Visa (test card)" },
  { value: "pm_card_mastercard", label: "Mastercard (test card)" },
  { value: "pm_card_chargeDeclined", label: "Declined card (test)" },
  { value: "other", label: "Another payment method id…" },
];

export function PaymentMethod({ current, onChanged }: { current: string | null; onChanged: () => void }) {
  const { api } = usePortal();
  const action = useAction();
  const [choice, setChoice] = useState(SANDBOX_METHODS.find((m) => m.value !== current)?.value ?? "pm_card_visa");
  const [other, setOther] = useState("");
  const method = choice === "other" ? other.trim() : choice;
  const submit = () =>
    void action
      .run(() => api.put("/v1/portal/payment-method", { payment_method: method }), `Payment method updated to ${method}.`)
      .then((ok) => ok && onChanged());
  return (
    <section aria-labelledby="payment-title" id="payment">
      <h2 id="payment-title">Payment method</h2>
      <p>
        Current: <strong data-testid="payment-method">{current ?? "none yet"}</strong>
      </p>
      <ActionForm title="Update the payment method" action={action} onSubmit={submit} submit="Update payment method">
        <Select label="New payment method" value={choice} onChange={setChoice} options={SANDBOX_METHODS} />
        {choice === "other" ? (
          <Field label="Payment method id" value={other} onChange={setOther} placeholder="pm_…" required />
        ) : null}
        <p className="note">Unpaid invoices are charged again with the new method.</p>
      </ActionForm>
    </section>
  );
}

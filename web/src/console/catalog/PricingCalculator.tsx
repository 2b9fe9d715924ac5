import { useState } from "react";
import { ActionForm, Field, Select, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { ScreenTitle } from "../common";

interface Quote {
  amount: string; currency: string; unrounded: string; quantity: string; included_units: string; billable_quantity: string;
  breakdown: Record<string, string | number | null>[];
}

const EXAMPLES: Record<string, string> = {
  flat: '{"flat_amount": "49.00"}',
  per_unit: '{"unit_amount": "0.10"}',
  graduated: '{"tiers": [{"up_to": 1000, "unit_amount": "0.10"}, {"up_to": null, "unit_amount": "0.05"}]}',
  volume: '{"tiers": [{"up_to": 1000, "unit_amount": "0.10"}, {"up_to": null, "unit_amount": "0.05"}]}',
  package: '{"package_size": 100, "package_amount": "5.00"}',
  percentage: '{"rate_percent": "2.9", "min_amount": "0.30"}',
};

/** Catalog → Pricing Calculator: what a price charges for a quantity (POST /v1/prices/quote). */
export function PricingCalculator() {
  const { api } = useConsole();
  const quote = useAction();
  const [model, setModel] = useState("graduated");
  const [currency, setCurrency] = useState("USD");
  const [fields, setFields] = useState(EXAMPLES.graduated ?? "{}");
  const [quantity, setQuantity] = useState("1500");
  const [answer, setAnswer] = useState<Quote | null>(null);
  const pick = (m: string) => { setModel(m); setFields(EXAMPLES[m] ?? "{}"); };
  const submit = async () => {
    const price = { model, currency, ...(JSON.parse(fields) as Record<string, unknown>) };
    setAnswer(await quote.call(() => api.post<Quote>("/v1/prices/quote", { price, quantity })));
  };
  return (
    <section>
      <ScreenTitle title="Pricing Calculator">Try a price before putting it in a plan version.</ScreenTitle>
      <ActionForm title="Quote" action={quote} onSubmit={() => void submit()} submit="Calculate">
        <div className="row">
          <Select label="Pricing model" value={model} onChange={pick} options={Object.keys(EXAMPLES).map((m) => ({ value: m, label: m }))} />
          <Field label="Currency" value={currency} onChange={setCurrency} />
          <Field label="Quantity" value={quantity} onChange={setQuantity} />
        </div>
        <Field label="Price fields (JSON)" value={fields} onChange={setFields} />
      </ActionForm>
      {answer ? (
        <div className="card">
          <p>Amount <strong data-testid="quote-amount">{answer.amount} {answer.currency}</strong> for {answer.billable_quantity} billable
            of {answer.quantity} ({answer.included_units} included; unrounded {answer.unrounded})</p>
          <Table caption="Breakdown" rows={answer.breakdown} rowKey={(l) => JSON.stringify(l)} columns={[
            { label: "Tier", cell: (l) => String(l.tier ?? "—") }, { label: "Units", cell: (l) => String(l.units ?? "") },
            { label: "Unit amount", cell: (l) => String(l.unit_amount ?? "—") }, { label: "Flat", cell: (l) => String(l.flat_amount ?? "—") },
            { label: "Amount", cell: (l) => String(l.amount ?? "") },
          ]} />
        </div>
      ) : null}
    </section>
  );
}

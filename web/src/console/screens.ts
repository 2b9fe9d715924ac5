import type { ComponentType } from "react";
import { Meters } from "./catalog/Meters";
import { Plans } from "./catalog/Plans";
import { PricingCalculator } from "./catalog/PricingCalculator";
import { Products } from "./catalog/Products";
import { Customers } from "./commercial/Customers";
import { Subscriptions } from "./commercial/Subscriptions";
import { EventDebugger } from "./usage/EventDebugger";
import { QueryTool } from "./usage/QueryTool";
import { BillRuns } from "./billing/BillRuns";
import { CreditNotes } from "./billing/CreditNotes";
import { Invoices } from "./billing/Invoices";
import { IntegrationDiagnosis } from "./developer/Diagnosis";
import { LocalClock } from "./developer/LocalClock";
import { ApiKeys } from "./settings/ApiKeys";
import { Finance } from "./settings/Finance";
import { Integrations } from "./settings/Integrations";
import { Payments } from "./settings/Payments";
import { Webhooks } from "./settings/Webhooks";

export type ScreenProps = { item: string | null };

/** Route (see nav.ts) → screen. */
export const SCREENS: Record<string, ComponentType<ScreenProps>> = {
  "catalog/products": Products,
  "catalog/billable-units": Meters,
  "catalog/plans": Plans,
  "catalog/pricing-calculator": PricingCalculator,
  "commercial/customers": Customers,
  "commercial/subscriptions": Subscriptions,
  "usage/event-debugger": EventDebugger,
  "usage/query-tool": QueryTool,
  "billing/bill-runs": BillRuns,
  "billing/invoices": Invoices,
  "billing/credit-notes": CreditNotes,
  "developer/integration-diagnosis": IntegrationDiagnosis,
  "developer/local-clock": LocalClock,
  "settings/api-keys": ApiKeys,
  "settings/finance": Finance,
  "settings/payments": Payments,
  "settings/webhooks": Webhooks,
  "settings/integrations": Integrations,
};

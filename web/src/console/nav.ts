// The navigation, with the names the seeds use ("Catalog → Billable Units", "Settings → API Keys", …).
import type { Area } from "./roles";

export interface Screen {
  route: string;
  label: string;
  area: Area;
}

export interface Section {
  label: string;
  screens: Screen[];
}

export const NAVIGATION: Section[] = [
  {
    label: "Catalog",
    screens: [
      { route: "catalog/products", label: "Products", area: "catalog" },
      { route: "catalog/billable-units", label: "Billable Units", area: "catalog" },
      { route: "catalog/plans", label: "Plans", area: "catalog" },
      { route: "catalog/pricing-calculator", label: "Pricing Calculator", area: "catalog" },
    ],
  },
  {
    label: "Commercial",
    screens: [
      { route: "commercial/customers", label: "Customers", area: "customers" },
      { route: "commercial/subscriptions", label: "Subscriptions", area: "customers" },
    ],
  },
  {
    label: "Usage Tracking",
    screens: [
      { route: "usage/event-debugger", label: "Event Debugger", area: "usage" },
      { route: "usage/query-tool", label: "Query Tool", area: "usage" },
    ],
  },
  {
    label: "Billing",
    screens: [
      { route: "billing/bill-runs", label: "Bill Runs", area: "billing" },
      { route: "billing/invoices", label: "Invoices", area: "billing" },
      { route: "billing/credit-notes", label: "Credit Notes", area: "billing" },
    ],
  },
  {
    label: "Developer Hub",
    screens: [
      { route: "developer/integration-diagnosis", label: "Integration Diagnosis", area: "usage" },
      { route: "developer/local-clock", label: "Local Clock", area: "billing" },
    ],
  },
  {
    label: "Settings",
    screens: [
      { route: "settings/api-keys", label: "API Keys", area: "keys" },
      { route: "settings/finance", label: "Finance", area: "billing" },
      { route: "settings/payments", label: "Payments", area: "billing" },
      { route: "settings/webhooks", label: "Webhooks", area: "webhooks" },
      { route: "settings/integrations", label: "Integrations", area: "integrations" },
    ],
  },
];

/** "#/billing/invoices/inv_1" → ["billing/invoices", "inv_1"]: the screen and the item opened in it. */
export function parseRoute(hash: string): { screen: string; item: string | null } {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  return { screen: parts.slice(0, 2).join("/"), item: parts[2] ? decodeURIComponent(parts[2]) : null };
}

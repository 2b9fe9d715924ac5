// The API's shapes as the console reads them (see GET /openapi.json); amounts are decimal strings.

export interface Product { id: string; name: string; description: string; status: string; created_at: string }

export interface Meter {
  id: string; name: string; event_name: string; code: string | null; description: string;
  aggregation: { function: string; field: string | null }; status: string; usage_reset: string;
  published_in: { plan_id: string; version: number }[]; created_at: string;
}

export interface VersionSummary {
  version: number; status: string; current: boolean; superseded: boolean; created_at: string; published_at: string | null;
}

export interface Plan {
  id: string; name: string; code: string | null; currency: string; billing_interval: string;
  current_version: number | null; latest_version: number; versions?: VersionSummary[];
}

export interface PriceObject { model: string; currency: string; [field: string]: unknown }

export interface PlanVersion extends VersionSummary {
  plan_id: string; currency: string; minimum_commitment: string | null;
  fees: { name: string; amount: string; timing: string }[];
  usage_prices: { meter_id: string; price: PriceObject }[];
  entitlements: { meter_id: string; limit: string; hard: boolean; reset: string }[];
}

export interface Customer {
  id: string; external_id: string; name: string; email: string | null; currency: string; timezone: string;
  payment_method: string | null; created_at: string;
}

export interface Subscription {
  id: string; customer_id: string; status: string; plan_id: string; plan_version: number; currency: string;
  interval: string; started_at: string; trial_end: string | null; current_period: { start: string; end: string } | null;
  cancel_at_period_end: boolean; dunning_attempts: number;
  payment: { state: string; overdue_since: string | null; grace_ends_at: string | null } | null;
  keys: { id: string; display: string; status: string; livemode: boolean }[];
}

export interface HistoryLine { at: string; action: string; from_status: string | null; to_status: string; detail: Record<string, unknown> }

export interface LoggedEvent {
  event_id: string; status: string; code: string | null; reason: string; external_customer_id: string | null;
  event_name: string | null; meter_id: string | null; timestamp: string | null; received_at: string; quantity?: string;
}

export interface IngestAnswer {
  accepted: number; duplicates: number;
  rejected: { index: number; event_id: string; code: string; detail: string }[];
  warnings: { index: number; event_id: string; code: string; detail: string }[];
}

export interface UsageAnswer {
  meter_id: string; event_name: string; from: string; to: string; window: string | null; value: string;
  data?: { from: string; to: string; value: string }[];
}

export interface BillRunResult {
  subscription_id: string; status: string; error_code: string | null; detail: string; invoice_id: string | null;
  period_start: string | null; period_end: string | null;
}

export interface BillRun {
  id: string; status: string; trigger: string; created_at: string; as_of: string | null; closed_at: string | null;
  totals: Record<string, number>; error: string | null; results: BillRunResult[];
}

export interface InvoiceLine { kind: string; description: string; amount: string; quantity?: string; [field: string]: unknown }

export interface AttributionStage { stage: string; [field: string]: unknown }

export interface AttributedUsage {
  meter_id: string; event_name: string; usage_from: string; usage_to: string; event_count: number;
  aggregated_quantity: string; included_units: string; billable_quantity: string; amount: string;
  windows: { from: string; to: string; event_count: number; quantity: string }[];
  tiers: Record<string, string>[];
}

export interface Invoice {
  id: string; customer_id: string; subscription_id: string; status: string; currency: string;
  period: { start: string | null; end: string | null }; lines: InvoiceLine[]; totals: Record<string, string | boolean>;
  amount_due: string; attribution: { stages?: AttributionStage[]; usage?: AttributedUsage[] };
  finalized_at: string | null; due_at: string | null; paid_at: string | null; error_code: string | null;
  error_detail: string | null; payment_attempts: Record<string, unknown>[];
  delivery: { status: string; to: string | null; reason: string | null; sent_at: string | null } | null;
}

export interface CreditNote {
  id: string; customer_id: string; invoice_id: string; currency: string; amount: string; reason: string;
  status?: string; created_at?: string;
}

export interface ApiKey {
  id: string; kind: string; role: string | null; name: string; display: string; status: string;
  customer_id: string | null; created_at: string; last_used_at: string | null; secret: string | null;
}

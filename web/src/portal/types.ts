// What the /v1/portal/ routes answer (tollgate.api.routers.portal, portal_billing).

export interface Me {
  tenant_id: string;
  customer_id: string | null;
  customer_name: string;
  customer_email: string | null;
  payment_method: string | null;
  return_url: string | null;
  expires_at: string | null;
}

export interface BoundKey {
  id: string;
  display: string;
  status: string;
  livemode: boolean;
}

export interface Subscription {
  id: string;
  plan_id: string;
  plan_name: string;
  plan_version: number;
  status: string;
  currency: string;
  interval: string;
  current_period: { start: string; end: string } | null;
  cancel_at_period_end: boolean;
  pending_plan: { plan_id: string; version: number } | null;
  payment: { state: string; overdue_since: string | null; grace_ends_at: string | null } | null;
  keys: BoundKey[];
}

export interface IssuedKey {
  id: string;
  display: string;
  status: string;
  secret: string | null;
}

export interface Regenerated {
  revoked: IssuedKey;
  key: IssuedKey;
}

export interface PlanChoice {
  plan_id: string;
  name: string;
  description: string;
  version: number;
  currency: string;
  interval: string;
  recurring_fees: string;
}

export interface MeterUsage {
  meter_id: string;
  name: string;
  event_name: string;
  used: string;
  limit: string | null;
  hard: boolean;
  reset: string;
  series: { from: string; to: string; value: string }[];
}

export interface SubscriptionUsage {
  subscription_id: string;
  plan_id: string;
  period: { start: string; end: string };
  as_of: string;
  meters: MeterUsage[];
}

export interface Invoice {
  id: string;
  subscription_id: string;
  status: string;
  currency: string;
  period: { start: string | null; end: string | null };
  amount_due: string;
  totals: Record<string, string>;
  due_at: string | null;
}

export interface Invoices {
  upcoming: Invoice[];
  data: Invoice[];
  has_more: boolean;
}

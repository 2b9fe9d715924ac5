// The operator roles and what each may change (mirrors tollgate.domain.access.ROLE_PERMISSIONS): the console
// hides change buttons a role would be refused anyway; the API still decides.

export type Role = "OWNER" | "ADMIN" | "MEMBER" | "BILLING_ADMIN" | "GATEWAY";
export type Area = "catalog" | "customers" | "billing" | "usage" | "keys" | "webhooks" | "integrations";

const WRITES: Record<Role, Area[]> = {
  OWNER: ["catalog", "customers", "billing", "usage", "keys", "webhooks", "integrations"],
  ADMIN: ["catalog", "customers", "billing", "usage", "keys", "webhooks", "integrations"],
  MEMBER: [],
  BILLING_ADMIN: ["customers", "billing", "webhooks"],
  GATEWAY: [],
};

const READS: Record<Role, Area[]> = {
  OWNER: WRITES.OWNER,
  ADMIN: WRITES.ADMIN,
  MEMBER: ["catalog", "customers", "billing", "usage", "webhooks", "integrations"],
  BILLING_ADMIN: ["customers", "billing", "usage", "webhooks", "integrations"],
  GATEWAY: [],
};

export function canWrite(role: Role, area: Area): boolean {
  return WRITES[role].includes(area);
}

export function canRead(role: Role, area: Area): boolean {
  return READS[role].includes(area);
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && value in WRITES;
}

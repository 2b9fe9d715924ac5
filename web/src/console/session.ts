// The signed-in operator: key + tenant id in sessionStorage (gone when the tab closes), and the key's role.
// There is no "who am I" route: the role is read from GET /v1/api-keys (OWNER and ADMIN may list keys; the
// caller's own key is the one whose display matches), else from what the key may read.

import { ApiClient, ApiError, type Credentials, type Page } from "../shared/api";
import { isRole, type Role } from "./roles";

const STORAGE_KEY = "tollgate.console.session";

export interface Session extends Credentials {
  tenantId: string;
  role: Role;
}

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.key === "string" && typeof parsed.tenantId === "string" && isRole(parsed.role)) {
      return { key: parsed.key, tenantId: parsed.tenantId, role: parsed.role };
    }
  } catch {
    // a damaged entry: sign in again
  }
  return null;
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

interface KeyRow {
  display: string;
  role: string | null;
  kind: string;
}

function displayOf(key: string): string {
  return `${key.slice(0, key.indexOf("_") + 1)}…${key.slice(-4)}`;
}

async function allowed(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error: unknown) {
    if (error instanceof ApiError && error.problem.status === 403) return false;
    throw error;
  }
}

/** Sign in: a wrong key or tenant answers its problem (401) here, before anything is stored. */
export async function signIn(key: string, tenantId: string): Promise<Session> {
  const api = new ApiClient({ key, tenantId });
  let role: Role;
  const keys: Page<KeyRow> | null = await api.get<Page<KeyRow>>("/v1/api-keys", { limit: 100 }).catch((e: unknown) => {
    if (e instanceof ApiError && e.problem.status === 403) return null;
    throw e;
  });
  if (keys) {
    const mine = keys.data.find((k) => k.kind === "operator" && k.display === displayOf(key));
    role = mine && isRole(mine.role) ? mine.role : "ADMIN";
  } else if (await allowed(() => api.get("/v1/meters", { limit: 1 }))) {
    role = "MEMBER";
  } else if (await allowed(() => api.get("/v1/customers", { limit: 1 }))) {
    role = "BILLING_ADMIN";
  } else {
    role = "GATEWAY";
  }
  return { key, tenantId, role };
}

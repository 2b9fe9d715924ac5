import { createContext, useContext } from "react";
import type { ApiClient } from "../shared/api";

export interface PortalContext {
  api: ApiClient;
  /** Ask every section to read its data again (after a change that affects several of them). */
  refresh: () => void;
  version: number;
}

export const Portal = createContext<PortalContext | null>(null);

export function usePortal(): PortalContext {
  const value = useContext(Portal);
  if (!value) throw new Error("usePortal outside <Portal.Provider>");
  return value;
}

import { createContext, useContext } from "react";
import type { ApiClient } from "../shared/api";
import type { Area, Role } from "./roles";

export interface ConsoleContext {
  api: ApiClient;
  role: Role;
  tenantId: string;
  can: (area: Area) => boolean;
  go: (route: string) => void;
}

export const Console = createContext<ConsoleContext | null>(null);

export function useConsole(): ConsoleContext {
  const value = useContext(Console);
  if (!value) throw new Error("useConsole outside the signed-in console");
  return value;
}

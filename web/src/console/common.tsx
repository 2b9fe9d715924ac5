import type { ReactNode } from "react";
import type { Page, Query } from "../shared/api";
import { ProblemBox } from "../shared/ProblemBox";
import { useLoad, type Loaded } from "../shared/useApi";
import { useConsole } from "./context";

/** The first page of a list route (the console shows up to 100 rows; filters narrow it). */
export function useList<T>(path: string, query: Query = {}, deps: unknown[] = []): Loaded<Page<T>> {
  const { api } = useConsole();
  return useLoad(() => api.get<Page<T>>(path, { limit: 100, ...query }), [path, JSON.stringify(query), ...deps]);
}

export function ScreenTitle({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <>
      <h1>{title}</h1>
      {children ? <p className="lead">{children}</p> : null}
    </>
  );
}

/** A load's problem, a loading note, or the content once loaded. */
export function Loading<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  if (loaded.problem) return <ProblemBox problem={loaded.problem} />;
  if (loaded.data === null && loaded.loading) return <p aria-busy="true">Loading…</p>;
  return <>{children(loaded.data as T)}</>;
}

export function Link({ route, children }: { route: string; children: ReactNode }) {
  return <a href={`#/${route}`}>{children}</a>;
}

export function ReadOnlyNote({ area }: { area: string }) {
  const { role } = useConsole();
  return <p className="note">Your role ({role}) can view {area} but not change it.</p>;
}

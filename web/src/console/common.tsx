import { useEffect, useState, type ReactNode } from "react";
import type { Page, Query } from "../shared/api";
import { ProblemBox } from "../shared/ProblemBox";
import { useLoad, type Loaded } from "../shared/useApi";
import { useConsole } from "./context";

export interface ListLoaded<T> extends Loaded<Page<T>> {
  /** The cursors of the pages before this one (empty on the first page). */
  before: string[];
  next: () => void;
  first: () => void;
}

/** A list route, 100 rows a page (filters narrow it; <Pager> moves through it). */
export function useList<T>(path: string, query: Query = {}, deps: unknown[] = []): ListLoaded<T> {
  const { api } = useConsole();
  const [before, setBefore] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const key = JSON.stringify(query);
  useEffect(() => { setCursor(null); setBefore([]); }, [path, key]);
  const loaded = useLoad(() => api.get<Page<T>>(path, { limit: 100, ...query, starting_after: cursor }),
    [path, key, cursor, ...deps]);
  const next = () => {
    const after = loaded.data?.next_cursor;
    if (after) { setBefore((b) => [...b, cursor ?? ""]); setCursor(after); }
  };
  const first = () => { setBefore([]); setCursor(null); };
  return { ...loaded, before, next, first };
}

/** "Next page" / "First page" under a list, when there is more than one page. */
export function Pager<T>({ list }: { list: ListLoaded<T> }) {
  if (!list.data?.has_more && list.before.length === 0) return null;
  return (
    <div className="row" aria-label="Pages">
      {list.before.length > 0 ? <button type="button" className="secondary" onClick={list.first}>First page</button> : null}
      {list.data?.has_more ? <button type="button" className="secondary" onClick={list.next}>Next page</button> : null}
    </div>
  );
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

import { useCallback, useEffect, useState } from "react";
import { toProblem, type Problem } from "./api";

export interface Loaded<T> {
  data: T | null;
  problem: Problem | null;
  loading: boolean;
  reload: () => void;
}

/** Load once (and on reload / when deps change); the problem of a failed load is kept for display. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((value) => {
        if (!live) return;
        setData(value);
        setProblem(null);
      })
      .catch((error: unknown) => live && setProblem(toProblem(error)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, problem, loading, reload };
}

export interface Action {
  /** Run a change; true when it succeeded. */
  run: (work: () => Promise<unknown>, done?: string) => Promise<boolean>;
  /** Run a change and return what it answered (null when it failed: the problem is shown). */
  call: <T>(work: () => Promise<T>, done?: string | ((value: T) => string)) => Promise<T | null>;
  busy: boolean;
  problem: Problem | null;
  message: string | null;
}

/** A change the user asked for: busy while it runs, its problem or its success message afterwards. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const call = useCallback(async <T,>(work: () => Promise<T>, done?: string | ((value: T) => string)) => {
    setBusy(true);
    setProblem(null);
    setMessage(null);
    try {
      const value = await work();
      setMessage(typeof done === "function" ? done(value) : (done ?? null));
      return value;
    } catch (error: unknown) {
      setProblem(toProblem(error));
      return null;
    } finally {
      setBusy(false);
    }
  }, []);
  const run = useCallback(
    async (work: () => Promise<unknown>, done?: string) => (await call(async () => { await work(); return true; }, done)) === true,
    [call],
  );
  return { run, call, busy, problem, message };
}

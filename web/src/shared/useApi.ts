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
  run: (work: () => Promise<unknown>, done?: string) => Promise<boolean>;
  busy: boolean;
  problem: Problem | null;
  message: string | null;
}

/** A change the user asked for: busy while it runs, its problem or its success message afterwards. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const run = useCallback(async (work: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    setProblem(null);
    setMessage(null);
    try {
      await work();
      setMessage(done ?? null);
      return true;
    } catch (error: unknown) {
      setProblem(toProblem(error));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, problem, message };
}

import { useState } from "react";
import { ApiError } from "../../shared/api";
import { dateTime } from "../../shared/format";
import { ActionForm, Field } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ScreenTitle } from "../common";

interface Clock { now: string; offset_seconds: number; wall_clock: string }
interface Advanced extends Clock { fired?: { schedule?: string; status?: string }[] }

/** Developer Hub → Local Clock: the local stack's time travel (GET /local/clock, POST /local/clock/advance).
 * The deployed stack has no such routes: its clock is AWS's. */
export function LocalClock() {
  const { api } = useConsole();
  const clock = useLoad(async () => {
    try {
      return await api.get<Clock>("/local/clock");
    } catch (error: unknown) {
      if (error instanceof ApiError && [403, 404].includes(error.problem.status)) return null;
      throw error;
    }
  }, []);
  const advance = useAction();
  const [days, setDays] = useState("31");
  const submit = async () => {
    const bounded = Math.min(Math.max(Number.parseInt(days, 10) || 0, 0), 3660);
    const answer = await advance.call(() => api.post<Advanced>("/local/clock/advance", { days: bounded }),
      (a) => `The local clock is now ${dateTime(a.now)}; due schedules fired (bill runs, dunning) and finished.`);
    if (answer) clock.reload();
  };
  return (
    <section>
      <ScreenTitle title="Local Clock">On `make run`'s local stack only: move time forward to bill ended periods.</ScreenTitle>
      <Loading loaded={clock}>
        {(c) => c === null ? <p>This deployment runs on real time (no local clock).</p> : (
          <>
            <p>Local time <strong data-testid="local-now">{dateTime(c.now)}</strong> (wall clock {dateTime(c.wall_clock)},
              {" "}{Math.round(c.offset_seconds / 86400)} days ahead)</p>
            <ActionForm title="Advance the clock" action={advance} onSubmit={() => void submit()} submit="Advance clock">
              <Field label="Days" type="number" value={days} onChange={setDays} required />
            </ActionForm>
          </>
        )}
      </Loading>
    </section>
  );
}

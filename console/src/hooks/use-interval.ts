import { useEffect, useRef } from 'preact/hooks';

/** Calls `tick` every `ms` while `ms` is not null; each call waits for the previous one to finish. */
export function useInterval(tick: () => Promise<void> | void, ms: number | null): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (ms === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const run = async () => {
      await latest.current();
      if (!stopped) timer = setTimeout(run, ms);
    };
    timer = setTimeout(run, ms);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms]);
}

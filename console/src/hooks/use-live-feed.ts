import { useEffect, useRef, useState } from 'preact/hooks';
import { type LiveMessage, type LiveStatus, type LiveSubscription, liveFeed } from '../api/live-feed.ts';

/**
 * Listens to the live feed while the component is shown. `onMessage` gets new anomalies and points; `onResumed`
 * runs when the connection is back after a loss (points are not replayed: reload what is shown). Returns the state.
 */
export function useLiveFeed(
  sub: LiveSubscription | undefined,
  onMessage: (m: LiveMessage) => void,
  onResumed?: () => void,
): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const handlers = useRef({ onMessage, onResumed });
  handlers.current = { onMessage, onResumed };
  const key = sub ? `${sub.projectId}/${sub.siteId ?? ''}/${sub.metricId ?? ''}` : '';
  useEffect(() => {
    if (!sub) return;
    let last: LiveStatus | undefined;
    return liveFeed().subscribe(sub, {
      message: (m) => handlers.current.onMessage(m),
      status: (s) => {
        if (s === 'open' && last === 'reconnecting') handlers.current.onResumed?.();
        last = s;
        setStatus(s);
      },
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return status;
}

/** A small badge saying whether live updates flow. */
export const LIVE_STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting to live updates…',
  open: 'Live',
  reconnecting: 'Live updates lost: reconnecting…',
};

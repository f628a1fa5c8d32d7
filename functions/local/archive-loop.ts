import type { Services } from '../service/services.ts';
import { archiveOldPoints } from '../service/sensors/point-archive.ts';

/** How often the local runtime moves old sensor points to the bucket (the EventBridge schedule's rate in AWS). */
export const ARCHIVE_INTERVAL_MS = 60 * 60_000;

/**
 * The archive job on one machine: runs at start and then on an interval, as the schedule in AWS runs its Lambda
 * (lib/point-consumer.ts). A run never overlaps the last one; a failed run is logged and tried again next time.
 */
export class ArchiveLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly s: Services,
    private readonly intervalMs = ARCHIVE_INTERVAL_MS,
  ) {}

  start(): void {
    const tick = () => {
      this.running ??= archiveOldPoints(this.s)
        .then(() => undefined)
        .catch((error: unknown) =>
          this.s.log({ level: 'error', msg: 'archiving old points failed', error: String(error) }),
        )
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

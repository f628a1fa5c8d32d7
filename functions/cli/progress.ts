import cliProgress from 'cli-progress';

/**
 * Progress bars on stderr, one per stage, so that stdout stays pure JSON. Without a terminal (CI, pipes) the bar
 * is printed as a line every few seconds instead of being redrawn.
 */
export class StageProgress {
  private bar: cliProgress.SingleBar | undefined;
  private stage: string | undefined;

  constructor(private readonly enabled = true) {}

  update(stage: string, done: number, total: number): void {
    if (!this.enabled) return;
    if (stage !== this.stage) {
      this.bar?.stop();
      this.stage = stage;
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${stage.padEnd(12)} [{bar}] {value}/{total} {percentage}% | {duration_formatted}`,
          noTTYOutput: true,
          notTTYSchedule: 5000,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, done);
      return;
    }
    this.bar?.setTotal(total);
    this.bar?.update(done);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.stage = undefined;
  }
}

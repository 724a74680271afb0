import cliProgress from 'cli-progress';

/** Overall bar plus one bar per worker (its current run's TIME step); silent when stderr is not a TTY. */
export class StudyProgress {
  private readonly multi?: cliProgress.MultiBar;
  private readonly overall?: cliProgress.SingleBar;
  private readonly slots: cliProgress.SingleBar[] = [];

  constructor(total: number, workers: number, enabled = process.stderr.isTTY === true) {
    if (!enabled) return;
    this.multi = new cliProgress.MultiBar(
      {
        stream: process.stderr,
        clearOnComplete: true,
        hideCursor: true,
        format: '{label} |{bar}| {value}/{total} {run}',
      },
      cliProgress.Presets.shades_classic,
    );
    this.overall = this.multi.create(total, 0, { label: 'runs    ', run: '' });
    for (let i = 0; i < workers; i++)
      this.slots.push(this.multi.create(1, 0, { label: `worker ${i + 1}`.padEnd(8), run: '' }));
  }

  start(slot: number, runId: string, T: number): void {
    this.slots[slot]?.start(T, 0, { label: `worker ${slot + 1}`.padEnd(8), run: runId });
  }

  step(slot: number, step: number): void {
    this.slots[slot]?.update(step);
  }

  done(): void {
    this.overall?.increment();
  }

  stop(): void {
    this.multi?.stop();
  }
}

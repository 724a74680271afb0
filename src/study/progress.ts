import cliProgress from 'cli-progress';
import { formatDuration } from './duration.js';

export interface StudyProgressOptions {
  /** Runs to execute now (kept runs excluded). */
  readonly todo: number;
  /** Runs at once. */
  readonly slots: number;
  /** Off a terminal, plain lines (at most one per `everySeconds`, and one at the end) instead of nothing. */
  readonly lines?: boolean;
  /**
   * Bars on a terminal (default true). False for commands that print lines of their own as they go
   * (clip, run), which a redrawn bar would garble: they get the plain lines on a terminal too.
   */
  readonly bar?: boolean;
  /** One bar per slot with its run's TIME step, on a terminal (runs that report steps). */
  readonly perSlot?: boolean;
  readonly stream?: NodeJS.WriteStream;
  readonly everySeconds?: number;
  /** What is counted (default 'runs'). */
  readonly unit?: string;
  /** Say an estimate once the first wave is done (default true). */
  readonly estimate?: boolean;
  /** Said first, on a terminal or when lines are asked for: the study's size. */
  readonly title?: string;
  /** Time source in seconds (tests). */
  readonly now?: () => number;
}

/**
 * Progress of a study's runs. On a terminal: an overall bar with elapsed time and time left (and, when
 * asked, one bar per slot with its run's TIME step). Off a terminal, when asked: a plain line at most
 * every 10 s and one at the end, for logs (CI, Slurm). Either way, once the first runs have finished
 * (one per slot), a line with the estimated time for the whole study.
 */
export class StudyProgress {
  private readonly multi?: cliProgress.MultiBar;
  private readonly overall?: cliProgress.SingleBar;
  private readonly slots: cliProgress.SingleBar[] = [];
  private readonly stream: NodeJS.WriteStream;
  private readonly now: () => number;
  private readonly started: number;
  private readonly lines: boolean;
  private finished = 0;
  private lastLine: number;
  private estimated = false;
  private readonly ticker?: NodeJS.Timeout;
  private readonly unit: string;

  constructor(private readonly options: StudyProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now() / 1000);
    this.unit = options.unit ?? 'runs';
    this.started = this.now();
    this.lastLine = this.started;
    const tty = this.stream.isTTY === true && options.bar !== false;
    this.lines = !tty && options.lines === true;
    if ((tty || this.lines) && options.title) this.stream.write(`${options.title}\n`);
    if (!tty || options.todo === 0) return;
    this.multi = new cliProgress.MultiBar(
      {
        stream: this.stream,
        clearOnComplete: true,
        hideCursor: true,
        format: '{label} |{bar}| {value}/{total} {run}',
      },
      cliProgress.Presets.shades_classic,
    );
    this.overall = this.multi.create(options.todo, 0, { label: this.unit.padEnd(8), run: this.timing() });
    if (options.perSlot)
      for (let i = 0; i < options.slots; i++)
        this.slots.push(this.multi.create(1, 0, { label: `worker ${i + 1}`.padEnd(8), run: '' }));
    // The clock moves between runs too.
    this.ticker = setInterval(() => this.overall?.update({ run: this.timing() }), 1000);
    this.ticker.unref();
  }

  /** Elapsed time, and time left once a run has finished. */
  private timing(): string {
    const elapsed = this.now() - this.started;
    const left = this.left();
    return `${formatDuration(elapsed)} elapsed${left === undefined ? '' : `, about ${formatDuration(left)} left`}`;
  }

  /** Seconds left, from the mean rate so far (runs go `slots` at a time). */
  private left(): number | undefined {
    if (this.finished === 0) return undefined;
    return ((this.now() - this.started) / this.finished) * (this.options.todo - this.finished);
  }

  private say(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }

  start(slot: number, runId: string, T: number): void {
    this.slots[slot]?.start(T, 0, { label: `worker ${slot + 1}`.padEnd(8), run: runId });
    this.overall?.update({ run: this.timing() });
  }

  step(slot: number, step: number): void {
    this.slots[slot]?.update(step);
    this.overall?.update({ run: this.timing() });
  }

  done(): void {
    this.finished++;
    this.overall?.increment({ run: this.timing() });
    // Drawn now: between runs or figures the main thread may be too busy for the bar's own timer.
    this.multi?.update();
    const { todo, slots, estimate } = this.options;
    // The first wave (one run per slot) is the first honest measure of a run's time.
    if (
      estimate !== false &&
      !this.estimated &&
      this.finished >= Math.min(slots, todo) &&
      this.finished < todo &&
      (this.multi || this.lines)
    ) {
      this.estimated = true;
      const total = ((this.now() - this.started) / this.finished) * todo;
      this.say(`estimate: about ${formatDuration(total)} for the ${todo} ${this.unit} (${this.finished} done)`);
      this.lastLine = this.now();
      return;
    }
    if (this.lines && this.finished < todo && this.now() - this.lastLine >= (this.options.everySeconds ?? 10)) {
      this.lastLine = this.now();
      this.say(`${this.unit} ${this.finished}/${todo}, ${this.timing()}`);
    }
  }

  stop(): void {
    clearInterval(this.ticker);
    this.multi?.stop();
    if (this.lines && this.options.todo > 0)
      this.say(`${this.unit} ${this.finished}/${this.options.todo} in ${formatDuration(this.now() - this.started)}`);
  }
}

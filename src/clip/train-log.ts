import { formatDuration } from '../study/duration.js';

export { formatDuration };

/** The trainer's progress line: loss, learning rate, images/s so far, and the time left in this task. */
export function trainProgressLine(
  step: number,
  steps: number,
  loss: number,
  lr: number,
  imagesPerSecond: number,
  batch: number,
): string {
  const left = imagesPerSecond > 0 ? ((steps - step) * batch) / imagesPerSecond : NaN;
  return `  step ${step}/${steps} loss ${loss.toFixed(4)} lr ${lr.toExponential(2)}, ${imagesPerSecond.toFixed(1)} images/s, ${formatDuration(left)} left in this task`;
}

/**
 * Images a second over the last few batches. The run's first batch is left out of the average
 * once others exist: it includes one-off work (WebGL shader compilation, buffer allocation).
 */
export class Throughput {
  private readonly samples: { images: number; ms: number }[] = [];
  private seenFirst = false;

  constructor(private readonly windowSize = 20) {}

  /** Records one batch and returns the current rate. */
  record(images: number, ms: number): number {
    const sample = { images, ms: Math.max(ms, 1e-3) };
    if (!this.seenFirst) {
      this.seenFirst = true;
      return (sample.images * 1000) / sample.ms;
    }
    this.samples.push(sample);
    if (this.samples.length > this.windowSize) this.samples.shift();
    let totalImages = 0;
    let totalMs = 0;
    for (const s of this.samples) {
      totalImages += s.images;
      totalMs += s.ms;
    }
    return (totalImages * 1000) / totalMs;
  }
}

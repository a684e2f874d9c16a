/**
 * Exponential backoff with jitter for reconnections: 100 ms, 200 ms, ... up to a cap,
 * each delay shortened by up to 20% at random so that producers and consumers cut off
 * together do not come back in lockstep.
 */
export class Backoff {
  private next: number;

  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 10_000,
  ) {
    this.next = initialMs;
  }

  delay(): number {
    const d = this.next;
    this.next = Math.min(this.maxMs, this.next * 2);
    return Math.round(d * (0.8 + 0.2 * Math.random()));
  }

  reset(): void {
    this.next = this.initialMs;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

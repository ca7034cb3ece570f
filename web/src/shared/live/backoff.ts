// Reconnection delays: exponential from `base` to `max`, with full jitter so that a wall
// of screens does not reconnect in step after a server restart.

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly base = 250,
    private readonly max = 5000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay in milliseconds. */
  next(): number {
    const ceiling = Math.min(this.max, this.base * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** A bounded wait that ends early when something changes (`notify()`), for any number of waiters. */
export class WakeSignal {
  readonly #waiters = new Set<() => void>();

  /** Resolves after `ms`, or at the next `notify()`, whichever comes first. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }

  notify(): void {
    for (const done of [...this.#waiters]) done();
  }
}

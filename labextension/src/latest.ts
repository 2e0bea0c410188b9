/**
 * Only the latest of a series of requests counts: starting one aborts the previous
 * (AbortController) and a reply that arrives after a newer request started is
 * dropped (request token), so a slow lineage reply for one notebook is never drawn
 * under another.
 */
export class LatestOnly {
  private controller: AbortController | null = null;
  private token = 0;

  /** Run ``request``; resolves to ``null`` when a newer request superseded it. */
  async run<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T | null> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const token = ++this.token;
    try {
      const value = await request(controller.signal);
      return token === this.token ? value : null;
    } catch (error) {
      if (token !== this.token || controller.signal.aborted) {
        return null;
      }
      throw error;
    }
  }

  /** Drop whatever is in flight (the view is going away or changes subject). */
  cancel(): void {
    this.controller?.abort();
    this.token++;
  }
}

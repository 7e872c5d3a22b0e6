/** Fault injection: each counter is consumed by the next matching operation. */
export class Faults {
  savepointFailures = 0;
  savepointFailureMessage = 'java.io.IOException: Failed to create savepoint directory (injected fault)';
  cancelFailures = 0;
  runFailures = 0;
  /** Next N REST calls answer 503 (leader election). */
  unavailableCalls = 0;
  /** Next N REST responses (of those `slowMatch` selects, default all) are delayed by this many real milliseconds. */
  slowCalls = 0;
  slowMs = 0;
  slowMatch?: (method: string, path: string) => boolean;

  failNextSavepoints(n = 1, message?: string): void {
    this.savepointFailures += n;
    if (message) this.savepointFailureMessage = message;
  }
  failNextCancels(n = 1): void {
    this.cancelFailures += n;
  }
  failNextRuns(n = 1): void {
    this.runFailures += n;
  }
  unavailableFor(calls: number): void {
    this.unavailableCalls += calls;
  }
  /**
   * The next `calls` responses come `ms` real milliseconds late (the request is applied at once: a client that gives
   * up waiting does not undo it). `match` (method, path without /v1) picks which requests count; default all.
   */
  slowResponses(ms: number, calls: number, match?: (method: string, path: string) => boolean): void {
    this.slowMs = ms;
    this.slowCalls += calls;
    this.slowMatch = match;
  }
}

/**
 * State-store calls retried with backoff inside the step (issue 17, defect 6). A DynamoDB throttle on a progress
 * write must not fail a step that already acted (a Resubmit whose job runs), nor send the execution into recovery.
 * Only throttling is retried here: a throttled request was refused and did nothing, so retrying any call (a
 * claimOnce, a conditional lock write) is safe; errors that may have been applied (timeouts, 5xx) are left to the
 * state machine's Retry, where each step's idempotence covers them. The AWS SDK's own retries come first.
 */
import type { StateStore } from '../adapters/state/types';

/** Error names DynamoDB (and the SDK) use for a refused, not-applied request. */
const THROTTLES = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException']);

export const STORE_RETRY = { attempts: 6, firstDelayMs: 250, maxDelayMs: 5_000 } as const;

export const isThrottle = (e: unknown): boolean => typeof (e as { name?: unknown })?.name === 'string' && THROTTLES.has((e as { name: string }).name);

/**
 * The store with every call retried on throttling: up to STORE_RETRY.attempts tries, 250 ms doubling to at most 5 s
 * apart (~8 s in all, well inside a step's 90 s). The last throttle propagates (the state machine retries it as
 * Transient).
 */
export function withStoreRetries(store: StateStore, sleep: (ms: number) => Promise<void>, onRetry?: (method: string, attempt: number, e: Error) => void): StateStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await value.apply(target, args);
          } catch (e) {
            if (!isThrottle(e) || attempt >= STORE_RETRY.attempts) throw e;
            onRetry?.(String(prop), attempt, e as Error);
            await sleep(Math.min(STORE_RETRY.maxDelayMs, STORE_RETRY.firstDelayMs * 2 ** (attempt - 1)));
          }
        }
      };
    },
  });
}

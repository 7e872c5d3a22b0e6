/**
 * The notification outbox (issue 17): a rescale's notification survives SNS being down for longer than the Notify
 * step's retries. The message is written to the state table (`outbox#<key>`, leased to the writer) before it is
 * published and deleted as soon as SNS has taken it:
 *  - normal case: written, published, deleted: exactly one message;
 *  - SNS fails: the item stays (its lease given back); the state machine's retry of Notify sends it from the outbox,
 *    and when every retry failed, the scaler's next invocation for the job (its 1-minute re-evaluation tick, an
 *    alarm, a schedule) sends it (`drainOutbox`);
 *  - SNS took it but the answer was lost, or the delete failed: it is sent again later. At-least-once then, with a
 *    stable `dedupId` message attribute (the claim key, e.g. `notify#<execution>`) that subscribers can drop
 *    duplicates by.
 * A lease (conditional write on the item) lets one sender at a time publish an item, so a Notify retry and a
 * scaler tick do not both send it. It uses only table actions the stack grants already (PutItem, UpdateItem,
 * DeleteItem, Query).
 */
import type { OutboxMessage, StateStore } from './state/types';

/** How long one sender holds an item while it publishes (a publish with the SDK's retries takes seconds). */
export const OUTBOX_LEASE_SECONDS = 60;
/** How long an item is kept (DynamoDB TTL) if no sender ever gets it through. */
export const OUTBOX_TTL_SECONDS = 7 * 86_400;

export type OutboxStore = Pick<StateStore, 'putOutbox' | 'leaseOutbox' | 'releaseOutboxLease' | 'deleteOutbox' | 'listOutbox'>;
/** Publishes one message (SNS Publish with these attributes, plus `dedupId`); returns the SNS message id. */
export type Publish = (m: OutboxMessage, dedupId: string) => Promise<string | undefined>;
interface Log {
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

const errorText = (e: unknown) => `${(e as Error).name ?? 'Error'}: ${(e as Error).message ?? String(e)}`;

/** Publishes the leased item; on success deletes it, on failure gives the lease back (the item stays) and throws. */
export async function publishLeased(store: OutboxStore, publish: Publish, job: string, key: string, m: OutboxMessage, log: Log): Promise<string | undefined> {
  let id: string | undefined;
  try {
    id = await publish(m, key);
  } catch (e) {
    await store.releaseOutboxLease(job, key, errorText(e)).catch((e2: unknown) => log.error(`could not give back the outbox lease of ${key} (job ${job}); it runs out by itself`, { error: errorText(e2) }));
    log.warn(`notification ${key} of job ${job} not published; kept in the outbox, sent again by the next retry or scaler invocation`, { error: errorText(e) });
    throw e;
  }
  // Sent. A failed delete means it is sent once more later (at-least-once, same dedupId): logged, not an error.
  await store.deleteOutbox(job, key).catch((e: unknown) => log.error(`notification ${key} of job ${job} was published but stays in the outbox; it may be delivered twice (dedupId ${key})`, { error: errorText(e) }));
  return id;
}

/** Writes the message to the outbox (leased to this sender), publishes it, deletes it. Throws when the publish failed. */
export async function sendThroughOutbox(store: OutboxStore, publish: Publish, job: string, key: string, m: OutboxMessage, now: number, log: Log): Promise<string | undefined> {
  await store.putOutbox(job, key, m, { now, leaseUntil: now + OUTBOX_LEASE_SECONDS * 1000, ttlSeconds: OUTBOX_TTL_SECONDS });
  return publishLeased(store, publish, job, key, m, log);
}

/**
 * Sends the outbox item `key` if it is still there and nobody else is sending it (a Notify retry after a failed
 * publish). `sent: false` when there is nothing to send (already sent) or another sender holds it.
 */
export async function resendFromOutbox(store: OutboxStore, publish: Publish, job: string, key: string, now: number, log: Log): Promise<{ sent: boolean; messageId?: string }> {
  const m = await store.leaseOutbox(job, key, { now, leaseUntil: now + OUTBOX_LEASE_SECONDS * 1000 });
  if (!m) return { sent: false };
  return { sent: true, messageId: await publishLeased(store, publish, job, key, m, log) };
}

/**
 * Sends every outbox item of these jobs (one Query per job). Never throws: a failure is counted and logged, and the
 * item waits for the next invocation.
 */
export async function drainOutbox(store: OutboxStore, publish: Publish, jobs: string[], now: number, log: Log): Promise<{ sent: string[]; failed: string[] }> {
  const sent: string[] = [];
  const failed: string[] = [];
  for (const job of jobs) {
    let keys: string[];
    try {
      keys = await store.listOutbox(job);
    } catch (e) {
      log.warn(`could not read the notification outbox of job ${job}`, { error: errorText(e) });
      continue;
    }
    for (const key of keys) {
      try {
        if ((await resendFromOutbox(store, publish, job, key, now, log)).sent) sent.push(key);
      } catch {
        failed.push(key);
      }
    }
  }
  return { sent, failed };
}

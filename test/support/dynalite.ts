/**
 * dynalite (an open-source DynamoDB implementation) on 127.0.0.1 with an OS-chosen port and a table with the same key
 * schema as the stack's StateTable (pk/sk strings): tests get a real DynamoDB wire protocol. Same helper as the
 * simulator's, with the SDK's default retries.
 */
import { startLocalTable, type LocalTable } from '../../local/simulator/dynamo';

export type LocalDynamo = LocalTable;

export function startDynalite(tableName = 'flink-elastic-state'): Promise<LocalDynamo> {
  return startLocalTable(tableName, { maxAttempts: 3 });
}

/* The repo's example config, parsed (no CDK imports: cheap for unit tests). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../functions/core/config';

export const EXAMPLE_CONFIG_FILE = join(__dirname, '..', '..', 'flink-elastic.config.json');

export function exampleDoc(): any {
  return JSON.parse(readFileSync(EXAMPLE_CONFIG_FILE, 'utf8'));
}

export function exampleConfig(): Config {
  return parseConfig(exampleDoc());
}

/** Reads the config file from disk and validates it with the core schema. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Config, ConfigError, parseConfig } from '../core/config';

export const DEFAULT_CONFIG_FILE = 'flink-elastic.config.json';

/** The config path: an explicit argument, else $FLINK_ELASTIC_CONFIG, else ./flink-elastic.config.json. */
export function configPath(explicit?: string): string {
  return resolve(explicit ?? process.env.FLINK_ELASTIC_CONFIG ?? DEFAULT_CONFIG_FILE);
}

export function loadConfig(path?: string): Config {
  const file = configPath(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot read config file: ${(e as Error).message}` }], file);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ path: '', message: `not valid JSON: ${(e as Error).message}` }], file);
  }
  return parseConfig(doc, file);
}

/**
 * The config the stack bundled into this function (esbuild define of process.env.FLINK_ELASTIC_CONFIG_JSON; see
 * lib/constructs/elastic-function.ts). Validated again at cold start, so a function never runs on a config the
 * schema rejects. Locally and in tests the same variable can be set in the environment.
 */
import { parseConfig, type Config } from '../../core/config';

let cached: Config | undefined;

export function bundledConfig(): Config {
  if (cached) return cached;
  const text = process.env.FLINK_ELASTIC_CONFIG_JSON;
  if (!text) throw new Error('FLINK_ELASTIC_CONFIG_JSON is not set: the function was not bundled by the flink-elastic stack');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`FLINK_ELASTIC_CONFIG_JSON is not valid JSON: ${(e as Error).message}`);
  }
  cached = parseConfig(doc, 'bundled config (FLINK_ELASTIC_CONFIG_JSON)');
  return cached;
}

/** Tests: forget the cached config. */
export function resetBundledConfig(): void {
  cached = undefined;
}

/**
 * Writes the JSON Schemas generated from the core's zod schemas, and the config reference generated from them.
 * `npm run schema` after changing functions/core/config.ts; the tests fail while the committed files are stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSchemas } from './schemas';

const root = join(__dirname, '..');
for (const [file, text] of Object.entries(renderSchemas())) {
  writeFileSync(join(root, file), text);
  process.stdout.write(`wrote ${file}\n`);
}

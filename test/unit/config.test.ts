import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../functions/core/config';
import { renderSchemas } from '../../scripts/schemas';

const root = join(__dirname, '..', '..');
const example = () => JSON.parse(readFileSync(join(root, 'flink-elastic.config.json'), 'utf8'));

test('the example config is valid', () => {
  const r = validateConfig(example());
  expect(r.ok ? [] : r.problems).toEqual([]);
});

test('committed JSON Schema and config reference match the core schema (run `npm run schema` when this fails)', () => {
  for (const [file, text] of Object.entries(renderSchemas())) {
    expect({ file, text: readFileSync(join(root, file), 'utf8') }).toEqual({ file, text });
  }
});

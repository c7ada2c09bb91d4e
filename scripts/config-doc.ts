/**
 * `npm run docs:config`: rewrites the settings tables of docs/configuration.md and docs/pages.md
 * and docs/tollgate-config.schema.json from src/settings.ts. test/system/config-doc.test.ts fails
 * while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFileSchemaJson, withSettingsTables } from '../src/settings.js';

const docs = join(import.meta.dirname, '..', 'docs');
for (const page of ['configuration.md', 'pages.md']) {
  const file = join(docs, page);
  const before = readFileSync(file, 'utf8');
  const after = withSettingsTables(before);
  if (after !== before) writeFileSync(file, after);
  console.log(`${after === before ? 'unchanged' : 'rewritten'}: docs/${page}`);
}
writeFileSync(join(docs, 'tollgate-config.schema.json'), configFileSchemaJson());
console.log('written: docs/tollgate-config.schema.json');

// Writes src/generated/mapspec.ts, the TypeScript types of the mapping
// spec, from the JSON Schema the Go engine validates specs with
// (internal/mapspec/mapspec.schema.json), so the site cannot drift from
// the engine: an op, an option or a field added there shows up here.
// `npm run gen:spec-types` writes it; with --check it only says whether
// the checked-in file is current (test/spec-types.test.ts runs that).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileFromFile } from 'json-schema-to-typescript';

const schema = fileURLToPath(new URL('../../internal/mapspec/mapspec.schema.json', import.meta.url));
const out = fileURLToPath(new URL('../src/generated/mapspec.ts', import.meta.url));

const banner = `// Code generated from internal/mapspec/mapspec.schema.json by
// \`npm run gen:spec-types\` (scripts/gen-spec-types.mjs). DO NOT EDIT.`;

const ts = await compileFromFile(schema, {
  bannerComment: banner,
  additionalProperties: false,
  unreachableDefinitions: true,
  // minItems/maxItems as tuples would spell out every length up to 500.
  ignoreMinAndMaxItems: true,
  style: { singleQuote: true, printWidth: 160 },
});

if (process.argv.includes('--check')) {
  const current = await readFile(out, 'utf8').catch(() => '');
  if (current !== ts) {
    console.error('src/generated/mapspec.ts is out of date with internal/mapspec/mapspec.schema.json: run `npm run gen:spec-types`');
    process.exit(1);
  }
} else {
  await writeFile(out, ts);
}

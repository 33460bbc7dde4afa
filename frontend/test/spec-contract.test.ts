// The site's mapping-spec rules against the engine's: the generated types
// are current with the JSON Schema, and the conversion ops and column
// identity agree with internal/mapspec/testdata/frontend-contract.json,
// which internal/mapspec/frontend_contract_test.go checks the Go side
// against.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import contract from '../../internal/mapspec/testdata/frontend-contract.json';
import schema from '../../internal/mapspec/mapspec.schema.json';
import { CONVERSION_OPS, sameColumn } from '../src/customer/mapping-spec';

describe('the mapping spec, in Go and here', () => {
  it('has generated types current with mapspec.schema.json', () => {
    const run = spawnSync(process.execPath, [join(process.cwd(), 'scripts', 'gen-spec-types.mjs'), '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('drops the conversion ops the engine has', () => {
    expect([...CONVERSION_OPS].sort()).toEqual([...contract.conversionOps].sort());
  });

  it('knows every op of the schema', () => {
    for (const op of contract.conversionOps) expect(schema.definitions.step.properties.op.enum).toContain(op);
  });

  it.each(contract.columnIdentity)('matches columns as the engine does: $a / $b', ({ a, b, same }) => {
    expect(sameColumn(a, b)).toBe(same);
  });
});

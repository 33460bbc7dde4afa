// A spec's column aliases and inline people read header columns under
// other names: the editor must show those columns as mapped, as the engine
// maps them (internal/mapspec aliases.go, inline.go).

import { describe, expect, it } from 'vitest';
import { CONVERSION_OPS, columnTarget } from '../src/customer/mapping-spec';
import type { MappingFile } from '../src/lib/types';

const tenancies: MappingFile = {
  name: 'tenancies',
  entity: 'tenancy',
  sourceId: ['Tenancy ID'],
  aliases: { 'Start Date': ['Tenancy Start', 'Move In Date'], Rent: ['Rent Amount'] },
  inline: [{ target: 'tenants', name: 'Tenant Name(s)', email: 'Tenant Email' }],
  fields: [
    { target: 'start_date', column: 'Start Date' },
    { target: 'rent', column: 'Rent', steps: [{ op: 'amount' }] },
  ],
};

describe('aliases and inline people in the editor', () => {
  it('shows a column read under an alias as mapped', () => {
    expect(columnTarget(tenancies, 'tenancy start')).toBe('start_date');
    expect(columnTarget(tenancies, 'Rent Amount')).toBe('rent');
    expect(columnTarget(tenancies, 'Tenancy Ref')).toBe('');
  });
  it('shows the columns naming people inline as mapped to their reference', () => {
    expect(columnTarget(tenancies, 'Tenant Name(s)')).toBe('tenants');
    expect(columnTarget(tenancies, 'tenant email')).toBe('tenants');
  });
  it('treats amount and period as conversions', () => {
    expect(CONVERSION_OPS.has('amount')).toBe(true);
    expect(CONVERSION_OPS.has('period')).toBe(true);
  });
});

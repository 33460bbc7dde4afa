import type { Proposal, TargetField } from '../src/lib/types';

const f = (name: string, type: string, required = false): TargetField => ({ name, type, ...(required ? { required } : {}) });

export const TARGETS: Record<string, TargetField[]> = {
  contact: [f('first_name', 'string'), f('last_name', 'string'), f('emails', 'list'), f('phones', 'list'), f('company', 'string'), f('notes', 'text')],
  property: [f('address_line1', 'string', true), f('town', 'string'), f('postcode', 'string'), f('bedrooms', 'integer'), f('price', 'money')],
};

/** A proposal like the API's for contacts.csv and properties.csv. */
export function proposal(): Proposal {
  return {
    files: [
      {
        fileId: 'f-1',
        fileName: 'contacts.csv',
        table: 'f-1',
        entity: 'contact',
        columns: [
          { column: 'Id', samples: ['1', '2'], target: '', confidence: 0, reason: 'Nothing fits: the column will not migrate unless you choose a field.', sourceId: true },
          { column: 'First Name', samples: ['Ada', 'Alan'], target: 'first_name', confidence: 0.9, reason: 'header "First Name" is a synonym of contact.first_name' },
          { column: 'Email', samples: ['ada@example.com', 'alan@example.com'], target: 'emails', confidence: 0.99, reason: '2 of 2 sample values look like email addresses' },
          { column: 'Phone', samples: ['+44 20 7946 0001'], target: 'phones', confidence: 0.62, reason: 'header "Phone" is a synonym of contact.phones' },
          { column: 'Remarks', samples: [], target: '', confidence: 0, reason: 'Nothing fits: the column will not migrate unless you choose a field.' },
        ],
      },
      {
        fileId: 'f-2',
        fileName: 'properties.csv',
        table: 'f-2',
        entity: 'property',
        preset: 'estate-agency-crm',
        score: 0.8,
        columns: [
          { column: 'Property ID', samples: ['P1'], target: '', confidence: 0, reason: '', sourceId: true },
          { column: 'Address 1', samples: ['1 High Street'], target: 'address_line1', confidence: 0.8, reason: 'The estate-agency-crm layout maps it.' },
          { column: 'Bedrooms', samples: ['3'], target: 'bedrooms', confidence: 0.8, reason: 'The estate-agency-crm layout maps it.' },
        ],
      },
    ],
    mapping: {
      version: 1,
      defaults: { region: 'GB' },
      files: [
        {
          name: 'f-1',
          entity: 'contact',
          sourceId: ['Id'],
          dedupe: ['emails'],
          fields: [
            { target: 'first_name', column: 'First Name', steps: [{ op: 'trim' }] },
            { target: 'emails', column: 'Email', steps: [{ op: 'trim' }, { op: 'email' }] },
            { target: 'phones', column: 'Phone' },
          ],
        },
        {
          name: 'f-2',
          entity: 'property',
          sourceId: ['Property ID'],
          fields: [
            { target: 'address_line1', column: 'Address 1' },
            { target: 'bedrooms', column: 'Bedrooms', optional: true },
          ],
        },
      ],
    },
    targets: TARGETS,
  };
}

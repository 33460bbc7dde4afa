// Code generated from internal/mapspec/mapspec.schema.json by
// `npm run gen:spec-types` (scripts/gen-spec-types.mjs). DO NOT EDIT.

/**
 * ISO 3166-1 alpha-2 region for phone numbers without a country code, or "auto" (the same as leaving it out): inferred from the row's country column, else from the file: the market or a country its +numbers or country column name, where its numbers without a country code are valid; else the country most of them name; else the migration's market.
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "region".
 */
export type Region = string;
/**
 * ISO 4217 currency code.
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "currency".
 */
export type Currency = string;
/**
 * ISO, EXCEL, UNIX, or a layout of YYYY YY MM M DD D MMM MMMM hh mm ss A and literal characters.
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "dateFormat".
 */
export type DateFormat = string;
/**
 * @minItems 1
 * @maxItems 20
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "dateFormats".
 */
export type DateFormats = DateFormat[];
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "name".
 */
export type Name = string;
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "column".
 */
export type Column = string;
/**
 * @minItems 1
 * @maxItems 50
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "columns".
 */
export type Columns = Column[];
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "ruleName".
 */
export type RuleName = string;
/**
 * @minItems 1
 * @maxItems 50
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "words".
 */
export type Words = string[];

/**
 * Says which file is which entity of the target schema and how each source column becomes each target field. See internal/mapspec/README.md.
 */
export interface CutoverMappingSpecVersion1 {
  /**
   * Format version. Only 1 exists.
   */
  version: 1;
  name?: string;
  description?: string;
  defaults?: Defaults;
  /**
   * @minItems 1
   * @maxItems 100
   */
  files: File[];
}
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "defaults".
 */
export interface Defaults {
  region?: Region;
  currency?: Currency;
  dateFormats?: DateFormats;
  timezone?: string;
}
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "file".
 */
export interface File {
  /**
   * The file's key in the spec (a file name or a role such as "contacts").
   */
  name: string;
  entity: Name;
  defaults?: Defaults1;
  sourceId?: Columns;
  /**
   * Columns tried in order for a row whose sourceId columns are blank.
   */
  sourceIdFallback?: Columns;
  /**
   * content: a row with no other id gets one derived from what identifies it (e-mail, else name and phone).
   */
  sourceIdFrom?: 'content';
  /**
   * @minItems 1
   * @maxItems 5
   */
  dedupe?: Name[];
  /**
   * Merge rows with the same dedupe key even when their source ids differ (off: they are kept and reported as possible duplicates).
   */
  mergeDifferentIds?: boolean;
  /**
   * @maxItems 50
   */
  skip?: Skip[];
  /**
   * @maxItems 10
   */
  derive?: ('applicant-expiry' | 'tenancy-status')[];
  /**
   * @minItems 1
   * @maxItems 500
   */
  fields: Field[];
  /**
   * Per target field that several mappings fill, how their values combine: combine (a list keeps every value, in order, each once), first (the first non-empty; the rest are reported in the workbook) or concat (text joined by the separator). Without a rule a list combines and any other field takes the first non-empty.
   */
  combine?: {
    [k: string]: CombineRule;
  };
  /**
   * Per column the spec reads, other headers that mean the same (the column's own name wins, then the first alias the header has).
   */
  aliases?: {
    /**
     * @minItems 1
     * @maxItems 50
     */
    [k: string]: Column[];
  };
  /**
   * People a row names inline (a tenant's name on a tenancy): derived as records of the referenced entity and linked by a reference field.
   *
   * @minItems 1
   * @maxItems 10
   */
  inline?: Inline[];
}
/**
 * This file's own defaults, over the spec's.
 */
export interface Defaults1 {
  region?: Region;
  currency?: Currency;
  dateFormats?: DateFormats;
  timezone?: string;
}
/**
 * A named rule: rows it matches are skipped and counted under its name. Exactly one of always and when.
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "skip".
 */
export interface Skip {
  name: RuleName;
  description?: string;
  always?: true;
  when?: Condition;
}
/**
 * True when the column's trimmed value is (case-insensitively) in "in", not in "notIn", or empty/non-empty per "empty". Exactly one of in, notIn, empty.
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "condition".
 */
export interface Condition {
  column: Column;
  /**
   * @minItems 1
   * @maxItems 200
   */
  in?: string[];
  /**
   * @minItems 1
   * @maxItems 200
   */
  notIn?: string[];
  empty?: boolean;
}
/**
 * One target field: where its value comes from (column, columns or constant) and the steps that shape it.
 *
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "field".
 */
export interface Field {
  target: Name;
  column?: Column;
  columns?: Columns;
  constant?: string;
  default?: string;
  /**
   * When the column(s) are missing from the file, drop this mapping instead of failing.
   */
  optional?: boolean;
  /**
   * A value that cannot be read rejects the whole row. By default it is left out of the record (kept under "invalid") and the row is flagged for review.
   */
  strict?: boolean;
  when?: Condition;
  /**
   * @maxItems 50
   */
  steps?: Step[];
}
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "step".
 */
export interface Step {
  op:
    | 'trim'
    | 'case'
    | 'split'
    | 'join'
    | 'replace'
    | 'default'
    | 'constant'
    | 'regex'
    | 'lookup'
    | 'boolean'
    | 'number'
    | 'money'
    | 'amount'
    | 'period'
    | 'date'
    | 'email'
    | 'phone';
  /**
   * trim: characters to trim besides white space.
   */
  chars?: string;
  /**
   * case
   */
  to?: 'lower' | 'upper' | 'title';
  /**
   * split (required) and join (default a space).
   */
  separator?: string;
  /**
   * split: keep only this part (0-based; negative counts from the end). Omit to keep all parts as a list.
   */
  index?: number;
  /**
   * replace
   */
  old?: string;
  /**
   * replace
   */
  new?: string;
  /**
   * default and constant
   */
  value?: string;
  /**
   * regex: RE2 with a capture group
   */
  pattern?: string;
  /**
   * regex: capture group to keep (default 1)
   */
  group?: number;
  /**
   * regex: what a non-matching value becomes (default empty)
   */
  onNoMatch?: 'empty' | 'keep' | 'error';
  /**
   * lookup: source value (case-insensitive) to target value
   */
  table?: {
    [k: string]: string;
  };
  /**
   * lookup: a value not in the table is an error
   */
  strict?: boolean;
  /**
   * lookup: the value for anything not in the table
   */
  otherwise?: string;
  true?: Words;
  false?: Words;
  /**
   * boolean: swap the result (for columns such as "Email Opt Out")
   */
  invert?: boolean;
  /**
   * number and money: decimal separator (default .)
   */
  decimal?: '.' | ',';
  /**
   * number and money: thousands separator (default , or . whichever is not the decimal)
   */
  thousands?: ',' | '.' | ' ' | "'" | '';
  currency?: Currency;
  formats?: DateFormats;
  timezone?: string;
  region?: Region;
  /**
   * amount: convert the amount to this period (a normalised monthly rent from a weekly one).
   */
  per?: 'weekly' | 'fortnightly' | 'four_weekly' | 'monthly' | 'quarterly' | 'annually';
}
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "combineRule".
 */
export interface CombineRule {
  mode: 'combine' | 'first' | 'concat';
  /**
   * What joins concatenated values ("; " when absent); only with mode concat.
   */
  separator?: string;
}
/**
 * This interface was referenced by `CutoverMappingSpecVersion1`'s JSON-Schema
 * via the `definition` "inline".
 */
export interface Inline {
  /**
   * A reference field (or list of references) of the file's entity.
   */
  target: string;
  /**
   * The column naming the person or people.
   */
  name: string;
  /**
   * A column with the person's e-mail (used when the cell names one person).
   */
  email?: string;
  /**
   * A column with the person's phone (used when the cell names one person).
   */
  phone?: string;
  /**
   * What separates several people in one cell (default ;, &, / and " and ").
   *
   * @minItems 1
   * @maxItems 10
   */
  separators?: string[];
  /**
   * Drop the entry when the name column is missing.
   */
  optional?: boolean;
}

// Edits to a mapping spec (internal/mapspec/README.md), one column at a
// time, as the editor makes them. Pure: each returns a new spec and leaves
// its input alone.

import type { CombineMode, FieldMapping, MappingFile, MappingSpec, StepOp } from '../lib/types';

/**
 * Per op of the schema (the generated StepOp), whether it converts a value
 * to a type and so must fit the target's type. Every op is listed, so an
 * op added to the engine's schema does not type-check here until it is
 * classified; test/spec-contract.test.ts checks the list against the
 * engine's (internal/mapspec/testdata/frontend-contract.json).
 */
const CONVERTS: Record<StepOp, boolean> = {
  trim: false,
  case: false,
  split: false,
  join: false,
  replace: false,
  default: false,
  constant: false,
  regex: false,
  lookup: false,
  boolean: true,
  number: true,
  money: true,
  amount: true,
  period: true,
  date: true,
  email: true,
  phone: true,
};

/** Steps that convert a value to a type; they must fit the target's type. */
export const CONVERSION_OPS: ReadonlySet<string> = new Set(Object.entries(CONVERTS).flatMap(([op, converts]) => (converts ? [op] : [])));

/**
 * What strings.TrimSpace trims (Go's unicode.IsSpace). JavaScript's trim()
 * differs: it also trims U+FEFF anywhere at the ends, and not U+0085.
 */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const EDGE_SPACE = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/**
 * A header's identity as the engine computes it (normCol, mapper.go):
 * without a leading byte-order mark, trimmed, lower-cased one character at
 * a time. Go lower-cases each rune on its own, so İ becomes i (not i̇) and
 * a final Σ becomes σ (not ς), unlike toLowerCase on the whole string.
 */
export function columnKey(header: string): string {
  const trimmed = (header.startsWith('\ufeff') ? header.slice(1) : header).replace(EDGE_SPACE, '');
  let key = '';
  for (const ch of trimmed) key += ch === '\u0130' ? 'i' : ch.toLowerCase();
  return key;
}

/** Columns match the header as the engine matches them: ignoring case and surrounding spaces. */
export function sameColumn(a: string, b: string): boolean {
  return columnKey(a) === columnKey(b);
}

function readsOnly(field: FieldMapping, column: string): boolean {
  return typeof field.column === 'string' && sameColumn(field.column, column);
}

function readsAmong(field: FieldMapping, column: string): boolean {
  return Array.isArray(field.columns) && field.columns.some((c) => sameColumn(c, column));
}

/** The spec's name for a header column: itself, or the column it is an alias of (aliases.go). */
function specColumn(file: MappingFile, column: string): string {
  for (const [name, alts] of Object.entries(file.aliases ?? {})) {
    if (alts.some((a) => sameColumn(a, column))) return name;
  }
  return column;
}

/**
 * Where a column goes in a file: the first mapping that reads it (under
 * its own name or as an alias), else the reference an inline entry fills
 * from it (inline.go), or "" when nothing reads it.
 */
export function columnTarget(file: MappingFile, column: string): string {
  for (const c of [column, specColumn(file, column)]) {
    const f = file.fields.find((fm) => readsOnly(fm, c) || readsAmong(fm, c));
    if (f) return f.target;
    const inl = (file.inline ?? []).find((e) => [e.name, e.email, e.phone].some((n) => n !== undefined && sameColumn(n, c)));
    if (inl) return inl.target;
  }
  return '';
}

function fileAt(spec: MappingSpec, fileIndex: number): MappingFile {
  const file = spec.files[fileIndex];
  if (!file) throw new RangeError(`the mapping has no file ${fileIndex}`);
  return file;
}

/** Takes `column` out of multi-column mappings, dropping any left with none. */
function withoutColumnInMulti(fields: FieldMapping[], column: string): FieldMapping[] {
  const out: FieldMapping[] = [];
  for (const fm of fields) {
    if (!readsAmong(fm, column)) {
      out.push(fm);
      continue;
    }
    const rest = (fm.columns ?? []).filter((c) => !sameColumn(c, column));
    if (rest.length > 0) out.push({ ...fm, columns: rest });
  }
  return out;
}

/**
 * Sends `column` of file `fileIndex` to `target`, or nowhere for "".
 *
 * - "" removes every mapping that reads only that column and takes it out
 *   of multi-column ones: the column will not migrate.
 * - A column already mapped keeps its mapping (conditions, defaults,
 *   steps) with the new target; when `types` says the old and new targets
 *   differ in type, its type conversions are dropped (the engine adds the
 *   right one for the new type).
 * - A column read only as part of several is taken out of that mapping
 *   and gets its own `{target, column}`; an unmapped column gets one too.
 */
export function setColumnTarget(
  spec: MappingSpec,
  fileIndex: number,
  column: string,
  target: string,
  types: Record<string, string> = {},
): MappingSpec {
  const next = structuredClone(spec);
  const file = fileAt(next, fileIndex);
  if (target === '') {
    file.fields = withoutColumnInMulti(
      file.fields.filter((fm) => !readsOnly(fm, column)),
      column,
    );
    pruneCombine(file);
    return next;
  }
  const own = file.fields.find((fm) => readsOnly(fm, column));
  if (own) {
    const before = own.target;
    own.target = target;
    if (before !== target && types[before] !== types[target] && Array.isArray(own.steps)) {
      const kept = own.steps.filter((st) => !CONVERSION_OPS.has(String(st.op)));
      if (kept.length > 0) own.steps = kept;
      else delete own.steps;
    }
    pruneCombine(file);
    return next;
  }
  file.fields = [...withoutColumnInMulti(file.fields, column), { target, column }];
  pruneCombine(file);
  return next;
}

/** Marks `column` as (part of) the record's id in the old CRM, or not. */
export function setSourceId(spec: MappingSpec, fileIndex: number, column: string, on: boolean): MappingSpec {
  const next = structuredClone(spec);
  const file = fileAt(next, fileIndex);
  const ids = (file.sourceId ?? []).filter((c) => !sameColumn(c, column));
  if (on) ids.push(column);
  if (ids.length > 0) file.sourceId = ids;
  else delete file.sourceId;
  return next;
}

/**
 * Changes which kind of record a file holds. Mappings to fields the new
 * entity lacks are dropped (and named in `dropped`), as are dedupe keys.
 */
export function setEntity(spec: MappingSpec, fileIndex: number, entity: string, fieldsOfEntity: string[]): { spec: MappingSpec; dropped: string[] } {
  const next = structuredClone(spec);
  const file = fileAt(next, fileIndex);
  if (file.entity === entity) return { spec: next, dropped: [] };
  const known = new Set(fieldsOfEntity);
  const dropped: string[] = [];
  file.entity = entity;
  file.fields = file.fields.filter((fm) => {
    if (known.has(fm.target)) return true;
    dropped.push(fm.column ?? (fm.columns ?? []).join(', ') ?? fm.target);
    return false;
  });
  if (Array.isArray(file.dedupe)) {
    const dedupe = file.dedupe.filter((t) => known.has(t));
    if (dedupe.length > 0) file.dedupe = dedupe;
    else delete file.dedupe;
  }
  // Derive rules are per entity; let the engine pick the new entity's.
  delete file.derive;
  pruneCombine(file);
  return { spec: next, dropped };
}

export interface ErrorPlace {
  fileIndex: number;
  /** The column the mistaken field mapping reads, when the path names one. */
  column?: string;
}

/** Where a JSON path such as `$.files[1].fields[3].steps[0].op` points in the spec. */
export function locatePath(spec: MappingSpec, path: string | null): ErrorPlace | null {
  if (!path) return null;
  const m = /^\$\.files\[(\d+)\](?:\.(sourceId|fields)\[(\d+)\])?/.exec(path);
  if (!m) return null;
  const fileIndex = Number(m[1]);
  const file = spec.files[fileIndex];
  if (!file) return null;
  if (m[2] === 'fields' && m[3] !== undefined) {
    const fm = file.fields[Number(m[3])];
    const column = fm?.column ?? fm?.columns?.[0];
    return column ? { fileIndex, column } : { fileIndex };
  }
  if (m[2] === 'sourceId' && m[3] !== undefined) {
    const column = file.sourceId?.[Number(m[3])];
    return column ? { fileIndex, column } : { fileIndex };
  }
  return { fileIndex };
}

/**
 * Settles how file `fileIndex` writes its dates: `chosen` goes first in the
 * file's `defaults.dateFormats`, and `other` (the reading the customer ruled
 * out) is dropped, so the engine no longer has two readings to choose
 * between. The file's other formats stay; a file without its own list
 * starts from the spec-wide one, since the file's list replaces it.
 */
export function setFileDateFormat(spec: MappingSpec, fileIndex: number, chosen: string, other: string): MappingSpec {
  const next = structuredClone(spec);
  const file = fileAt(next, fileIndex);
  const from = file.defaults?.dateFormats ?? next.defaults?.dateFormats ?? [];
  const kept = from.filter((f) => f !== chosen && f !== other);
  file.defaults = { ...(file.defaults ?? {}), dateFormats: [chosen, ...kept] };
  return next;
}

/** Separator the engine joins concatenated values with when the rule names none. */
export const DEFAULT_SEPARATOR = '; ';

/** A target field that several mappings of a file fill, and the columns they read, in spec order. */
export interface SharedTarget {
  target: string;
  columns: string[];
}

/** The target fields that several mappings of `file` fill: those whose values must combine somehow. */
export function sharedTargets(file: MappingFile): SharedTarget[] {
  const byTarget = new Map<string, string[]>();
  const count = new Map<string, number>();
  for (const fm of file.fields) {
    count.set(fm.target, (count.get(fm.target) ?? 0) + 1);
    const cols = fm.column !== undefined ? [fm.column] : fm.columns ?? (fm.constant !== undefined ? ['(constant)'] : []);
    byTarget.set(fm.target, [...(byTarget.get(fm.target) ?? []), cols.join(' + ')]);
  }
  return [...byTarget.entries()].filter(([t]) => (count.get(t) ?? 0) > 1).map(([target, columns]) => ({ target, columns }));
}

/** The modes that fit a field of `type` (a target's type from the schema): combine for lists, concat for text. */
export function combineModes(type: string): CombineMode[] {
  if (type === 'list') return ['combine', 'first'];
  if (type === 'string' || type === 'text') return ['first', 'concat'];
  return ['first'];
}

/** What the engine does when the spec says nothing: a list keeps every value, anything else the first non-empty. */
export function defaultCombine(type: string): CombineMode {
  return type === 'list' ? 'combine' : 'first';
}

/** How `target` of `file` combines: the spec's rule, else the default for its type. */
export function combineChoice(file: MappingFile, target: string, type: string): { mode: CombineMode; separator: string; explicit: boolean } {
  const rule = file.combine?.[target];
  if (rule) return { mode: rule.mode, separator: rule.separator ?? DEFAULT_SEPARATOR, explicit: true };
  return { mode: defaultCombine(type), separator: DEFAULT_SEPARATOR, explicit: false };
}

/**
 * Sets how the mappings of `target` in file `fileIndex` combine. A
 * separator is kept only for concat (and dropped when it is the default).
 */
export function setCombine(spec: MappingSpec, fileIndex: number, target: string, mode: CombineMode, separator?: string): MappingSpec {
  const next = structuredClone(spec);
  const file = fileAt(next, fileIndex);
  const rule: { mode: CombineMode; separator?: string } = { mode };
  if (mode === 'concat' && separator !== undefined && separator !== DEFAULT_SEPARATOR) rule.separator = separator;
  file.combine = { ...(file.combine ?? {}), [target]: rule };
  pruneCombine(file);
  return next;
}

/**
 * Drops the combine rules of targets that fewer than two mappings fill
 * (the engine refuses a rule with nothing to combine), and the list when
 * it is left empty.
 */
function pruneCombine(file: MappingFile): void {
  if (!file.combine) return;
  const shared = new Set(sharedTargets(file).map((s) => s.target));
  for (const t of Object.keys(file.combine)) if (!shared.has(t)) delete file.combine[t];
  if (Object.keys(file.combine).length === 0) delete file.combine;
}

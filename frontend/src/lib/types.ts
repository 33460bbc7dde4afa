// The shapes the cutover HTTP API answers with (see README "HTTP API").
// Optional where the server omits empty values.

import type * as spec from '../generated/mapspec';

export type Status =
  | 'created'
  | 'submitted'
  | 'mapping'
  | 'test_migrating'
  | 'awaiting_review'
  | 'signoff_requested'
  | 'awaiting_signoff'
  | 'signoff_expired'
  | 'awaiting_revision'
  | 'awaiting_final'
  | 'scheduled'
  | 'final_migrating'
  | 'final_blocked'
  | 'final_held'
  | 'live'
  | 'failed';

export type Purpose = 'test' | 'final';

export interface MigrationFile {
  id: string;
  name: string;
  size: number;
  purpose: Purpose;
  round: number;
  complete: boolean;
  startedAt?: string;
  completedAt?: string;
  /** Why the file cannot be migrated (not a spreadsheet export); it is in no round. */
  refused?: string;
}

export interface Counts {
  read: number;
  migrated: number;
  merged?: number;
  rejected: number;
  skipped: number;
  orphans?: number;
}

export type ReviewState = 'reviewed' | 'waived';

export interface ReviewMark {
  state: ReviewState;
  note?: string;
  at?: string;
}

export interface EntityReconciled {
  entity: string;
  checklist?: number | null;
  rows: number;
  migrated: number;
  status: string;
}

export interface EntityFinal extends EntityReconciled {
  added: number;
  removed: number;
  changed: number;
}

export interface Failure {
  step: string;
  reason: string;
  at?: string;
}

export interface SignOffRecord {
  round: number;
  mappingVersion: number;
  mappingHash: string;
  decidedBy: string;
  decidedAt: string;
  comment?: string;
}

export interface Migration {
  id: string;
  tenantId: string;
  customerName: string;
  customerEmail?: string;
  coordinatorEmail?: string;
  status: Status;
  round: number;
  files: MigrationFile[] | null;
  mappingVersion?: number;
  test?: Counts;
  final?: Counts;
  // manifest and results are where the chunks' Distributed Map read and
  // wrote; partitions, the id shuffle's (absent for one chunk).
  finalPlan?: { chunks: number; rows: number; manifest?: string; results?: string; partitions?: number };
  finalReport?: { chunks: number; entities: EntityFinal[] | null; createdAt?: string };
  signOff?: SignOffRecord;
  pending?: { kind: string; round: number };
  finalFileIds?: string[];
  goLiveAt?: string;
  wentLiveAt?: string;
  executionName?: string;
  checklist?: Record<string, number> | null;
  spotCheckIds?: Record<string, string[]> | null;
  /** ISO 3166-1 alpha-2 country the customer trades in ("" or absent: not set). */
  market?: string;
  workbook?: { round: number; spotChecks: number; entities: EntityReconciled[] | null; createdAt?: string; warningGroups?: number; waiveOnly?: number[] | null; duplicates?: DuplicateCounts | null };
  review?: Record<string, ReviewMark> | null;
  failure?: Failure;
  /** The latest pre-flight of the final extract (issue 12): held when it differs past the limits. */
  preflight?: { phase: string; held: boolean; breaches: Array<{ rule: string; entity?: string; field?: string; detail: string }> | null; checkedAt: string };
  createdAt: string;
  updatedAt: string;
  version?: number;
}

export interface AuditEvent {
  at: string;
  actor: string;
  action: string;
  detail?: string;
}

export interface MigrationView {
  migration: Migration;
  audit: AuditEvent[] | null;
}

export interface UploadPlan {
  fileId: string;
  uploadId: string;
  key?: string;
  partSize: number;
  parts: PartURL[];
}

export interface PartURL {
  partNumber: number;
  url: string;
}

// ------------------------------------------------------------ workbook

export interface Reconciliation {
  entity: string;
  checklist: number | null;
  rows: number;
  migrated: number;
  merged: number;
  rejected: number;
  skipped: Record<string, number> | null;
  /** Per derive rule (applicant-expiry, tenancy-status): migrated records the rule changed on purpose. */
  housekeeping?: Record<string, number> | null;
  status: 'match' | 'explained' | 'unexplained' | string;
  explanation: string;
}

export interface Cell {
  column: string;
  value: string;
}

export interface SpotCheck {
  entity: string;
  why: string;
  sourceId: string;
  found: boolean;
  file?: string;
  line?: number;
  source?: Cell[] | null;
  recordId?: string;
  record?: Record<string, string> | null;
  /** What became of the row: migrated, merged, rejected or skipped (absent: no row has the id). */
  outcome?: string;
  /** The outcome in words, e.g. "rejected at line 3 of contacts.csv: …". */
  says?: string;
  /** The record a merged row went into. */
  mergedInto?: string;
  /** Why a sampled row was drawn more often: "warning", "merged", "derived". */
  flags?: string[] | null;
  warnings?: Array<{ field?: string; column?: string; value?: string; reason: string }> | null;
  /** No record to call right (rejected, skipped, not found): it can only be waived with a note. */
  waiveOnly?: boolean;
}

/** An entity's "!" warnings for one reason, with examples (internal/workbook warnings.go). */
export interface WarningGroup {
  entity: string;
  reason: string;
  count: number;
  examples: Array<{ file: string; line: number; sourceId?: string; field: string; column?: string; value: string; reason: string }> | null;
}

/** One row of the extract, in a duplicate group. */
export interface SourceRow {
  file?: string;
  line: number;
  sourceId: string;
  recordId: string;
  cells: Cell[] | null;
}

/** A merge or a set of possible duplicates, with their rows (internal/workbook duplicates.go). */
export interface DuplicateGroup {
  kind: 'merged' | 'possible';
  entity: string;
  key: string;
  rows: SourceRow[] | null;
  total: number;
  recordIds: string[] | null;
  record?: Record<string, string> | null;
}

/** Rows merged into another record, and records kept apart as possible duplicates. */
export interface DuplicateCounts {
  merged: number;
  possible: number;
}

export interface ReasonCount {
  file: string;
  entity: string;
  reason: string;
  count: number;
}

export interface RejectsFile {
  file: string;
  url?: string;
}

export interface Issues {
  rejected: ReasonCount[] | null;
  rejectsFiles: RejectsFile[] | null;
  warned: number;
  /** Values left out of migrated records because they could not be read (kept under "invalid"). */
  leftOut?: FieldCount[] | null;
  orphans: number;
  /** People named on rows (inline) that the destination refused, by the naming row's file and reason; the rows stay migrated. */
  refusedPeople?: ReasonCount[] | null;
  /** Records kept apart although a record with another source id shares their dedupe key. */
  possibleDuplicates?: number;
  /** Every group of possible duplicates; duplicates lists the first 1,000. */
  possibleGroups?: number;
  duplicates?: PossibleDuplicate[] | null;
  /** The warnings grouped by reason; each is marked as "warn:N". */
  warnings?: WarningGroup[] | null;
  /** Per-file review files: the rows migrated with a warning. */
  reviewFiles?: RejectsFile[] | null;
  duplicateCounts?: DuplicateCounts | null;
  duplicateGroups?: DuplicateGroup[] | null;
}

/** How many values of one field of one file were left out. */
export interface FieldCount {
  file: string;
  entity: string;
  field: string;
  count: number;
}

/** Records kept apart that share a dedupe key (internal/mapspec merge.go). */
export interface PossibleDuplicate {
  entity: string;
  key: string;
  ids: string[] | null;
  /** Each kept record's first line. */
  lines: number[] | null;
  sourceIds: string[] | null;
}

/** Where a file's phone region came from (internal/mapspec infer_region.go). */
export interface RegionGuess {
  /** ISO 3166-1 alpha-2; absent when nothing in the file said. */
  region?: string;
  confidence: number;
  source: 'numbers' | 'country column' | 'market' | 'none' | string;
  evidence: number;
}

/** The date format read from one column (internal/mapspec infer_date.go). */
export interface DateGuess {
  column: string;
  dateFormat: string;
  confidence: number;
  /** Another format reads the same values differently. */
  ambiguous?: boolean;
  alternative?: string;
  /** Values the two formats read differently. */
  examples?: string[] | null;
  values: number;
  read: number;
}

/** What the engine read from one file's values. */
export interface FileInference {
  /** The file's name, with " [Sheet]" for a workbook sheet. */
  file: string;
  entity: string;
  market?: string;
  region: RegionGuess;
  dates: DateGuess[] | null;
}

export interface FillRate {
  field: string;
  filled: number;
  rate: number;
}

export interface EntityFill {
  entity: string;
  file: string;
  fields: FillRate[] | null;
}

export interface FileColumns {
  file: string;
  columns: string[] | null;
}

export interface Workbook {
  migrationId?: string;
  round: number;
  mappingVersion: number;
  seed?: number;
  createdAt?: string;
  reconciliation: Reconciliation[] | null;
  spotChecks: SpotCheck[] | null;
  issues: Issues | null;
  fillRates: EntityFill[] | null;
  unmapped: FileColumns[] | null;
  inference?: FileInference[] | null;
  /** Spot check of fields several columns fill (internal/workbook combined.go). */
  combined?: FileCombined[] | null;
  /** Per file, what a person should know about how it is read (internal/workbook notes.go). */
  notes?: FileNotes[] | null;
}

export interface FileNotes {
  file: string;
  entity: string;
  notes: string[] | null;
}

export interface ReviewAnswer {
  review: Record<string, ReviewMark> | null;
  open: string[] | null;
}

// ------------------------------------------------------------ mapping

// The mapping spec's types are generated from the JSON Schema the engine
// validates specs with (src/generated/mapspec.ts, `npm run gen:spec-types`),
// so an op, option or field added in Go reaches the site's types.

/** One target field: where its value comes from and the steps that shape it. */
export type FieldMapping = spec.Field;

/** One step of a field mapping (internal/mapspec steps.go). */
export type MappingStep = spec.Step;

/** The name of a step's operation: the schema's enum. */
export type StepOp = spec.Step['op'];

/** One file of the spec: which entity it holds and how its columns map. */
export type MappingFile = spec.File;

/** How several mappings of one field combine (internal/mapspec combine.go). */
export type CombineRule = spec.CombineRule;

/** How several columns mapped to one field combine: every value (lists), the first non-empty, or text joined by a separator. */
export type CombineMode = spec.CombineRule['mode'];

/** Defaults for every step that does not say otherwise; the site edits only dateFormats. */
export type MappingDefaults = spec.Defaults;

/** People a row names inline, filling a reference (internal/mapspec inline.go). */
export type InlinePerson = spec.Inline;

/** A whole mapping spec, version 1. */
export type MappingSpec = spec.CutoverMappingSpecVersion1;

export interface ProposedColumn {
  column: string;
  samples: string[] | null;
  target: string;
  confidence: number;
  reason: string;
  sourceId?: boolean;
}

export interface ProposedFile {
  fileId: string;
  fileName: string;
  table: string;
  entity: string;
  preset?: string;
  score?: number;
  /** How the file was read: see FileFormat. */
  format?: FileFormat;
  columns: ProposedColumn[] | null;
}

/** How a file was read, and how sure the reader was of its encoding. */
export interface FileFormat {
  kind: string;
  encoding: string;
  /** 1 when certain or chosen; below 0.5 the reader refuses to guess. */
  confidence: number;
  alternatives?: { Encoding: string; Confidence: number }[];
  /** "," ";" "|" or "tab". */
  delimiter?: string;
  encodingChosen?: boolean;
  delimiterChosen?: boolean;
}

export interface TargetField {
  name: string;
  type: string;
  required?: boolean;
}

export interface RefusedFile {
  fileId: string;
  fileName: string;
  reason: string;
  /** The reader's guess when the file was refused for an uncertain encoding. */
  format?: FileFormat;
}

export interface Proposal {
  files: ProposedFile[] | null;
  /** Files the next round would leave out, and why. */
  refused?: RefusedFile[];
  mapping: MappingSpec;
  targets: Record<string, TargetField[]>;
}

// ------------------------------------------------------------ final report

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

export interface Change {
  kind: string;
  entity: string;
  sourceId: string;
  fields?: FieldChange[] | null;
}

export interface EntityDelta {
  entity: string;
  before: number;
  after: number;
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  examples: Change[] | null;
}

export interface FinalReport {
  migrationId: string;
  counts: Counts;
  chunks: number;
  workbook: Workbook | null;
  delta: { entities: EntityDelta[] | null } | null;
  deltaUrl?: string;
  testRound?: number;
  noBaseline?: boolean;
  /** Mapped columns the final extract lacked, which the coordinator re-approved going live without. */
  missing?: { file: string; column: string; field: string }[] | null;
}

// ------------------------------------------------------------ sign-off

export interface SignOffView {
  migration: { id: string; customerName: string; tenantId: string };
  round: number;
  mappingVersion?: number;
  summary: Counts | null;
  workbook?: { round: number; spotChecks: number; entities: EntityReconciled[] | null } | null;
  review?: Record<string, ReviewMark> | null;
  /** Not sent yet by every server: the workbook's issues, when present. */
  issues?: Issues | null;
  expiresAt?: string;
  state: 'pending' | 'approved' | 'rejected' | 'expired' | 'superseded' | string;
  decidedAt?: string;
  comment?: string;
  /** What the link decides: a round's sign-off, or a held go-live's re-approval. */
  kind?: 'signoff' | 'reapproval' | string;
  /** The mapping as approved, per file. */
  mapping?: MappedFile[] | null;
  inference?: FileInference[] | null;
  notes?: Array<{ file: string; entity: string; notes: string[] | null }> | null;
  /** The workbook's spot checks with the customer's marks. */
  spotChecks?: SignOffSpotCheck[] | null;
  downloads?: SignOffDownload[] | null;
  duplicates?: SignOffDuplicates | null;
  /** A held go-live's differences (re-approval links). */
  preflight?: SignOffPreflight | null;
  /** What the server could not show, in words. */
  missing?: string[] | null;
}

/** One file of the approved mapping: columns → field, with the choices in words. */
export interface MappedFile {
  /** The uploaded file's name (" [Sheet]" for a sheet). */
  file: string;
  /** The mapping's entry name (the file's id). */
  entry?: string;
  entity: string;
  fields: Array<{ columns: string[] | null; field: string; how?: string[] | null }> | null;
}

export interface SignOffSpotCheck extends SpotCheck {
  section: string;
  mark?: ReviewMark | null;
}

export interface SignOffDownload {
  kind: 'rejects' | 'warnings' | string;
  file: string;
  url: string;
}

export interface SignOffDuplicates {
  merged: number;
  possible: number;
  groups?: PossibleDuplicate[] | null;
}

export interface SignOffBreach {
  rule: string;
  entity?: string;
  field?: string;
  detail: string;
}

/** internal/cutover PreflightReport, as the sign-off page reads it: the final extract's dry run against the signed-off test. */
export interface SignOffPreflightReport {
  fingerprint: string;
  phase: string;
  matches: Array<{ fileId: string; fileName: string; table: string; entry: string; entity: string; confirmed: boolean }> | null;
  entities: Array<{ entity: string; testRows: number; rows: number; migrated: number; testRejectPct: number; rejectPct: number; testWarnPct: number; warnPct: number; testRejected?: number; rejected?: number; testWarned?: number; warned?: number; status: string; added: number; removed: number; changed: number }> | null;
  missing: Array<{ entry: string; file?: string; column: string; field: string }> | null;
  fill: Array<{ entity: string; field: string; testPct: number; pct: number; changed: number }> | null;
  breaches: SignOffBreach[] | null;
  counts: Counts;
  at: string;
}

export interface SignOffPreflight {
  phase: string;
  checkedAt?: string;
  breaches: SignOffBreach[] | null;
  report?: SignOffPreflightReport | null;
}

// ------------------------------------------------------------ ops

export interface Chunk {
  index: number;
  fileId?: string;
  fileName: string;
  start?: number;
  end?: number;
  /** A merge partition: it merges what the chunks spilled, after them, and reads no file. */
  merge?: boolean;
  status: 'pending' | 'running' | 'done' | 'failed' | string;
  attempts: number;
  counts: Counts | null;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface ExecutionEvent {
  timestamp: string;
  type: string;
  state?: string;
}

export interface Execution {
  name: string;
  status: string;
  startDate?: string;
  stopDate?: string;
  events: ExecutionEvent[] | null;
}

/** A part of an unfinished upload that S3 already holds. */
export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
}

/** One mail the service owes someone, as ops see it (the address masked, no body). */
export interface MailItem {
  purpose: string;
  round: number;
  to: string;
  subject: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  lastError?: string;
  nextAt?: string;
  sentAt?: string;
  createdAt: string;
}

/** A lifecycle event published (or owed) to the product being joined (internal/cutover lifecycle.go). */
export interface LifecycleEventItem {
  id: string;
  type: string;
  round: number;
  occurredAt: string;
  status: 'pending' | 'published' | 'failed';
  attempts: number;
  lastError?: string;
  nextAt?: string;
  publishedAt?: string;
  busEventId?: string;
  createdAt: string;
}

export interface OpsDetail {
  migration: Migration;
  audit: AuditEvent[] | null;
  chunks: Chunk[] | null;
  mail?: MailItem[] | null;
  events?: LifecycleEventItem[] | null;
  execution: Execution | null;
}

/** A re-issued invite: the new link, shown once. */
export interface ReissuedInvite {
  inviteUrl: string;
  inviteMailed: boolean;
}

// ------------------------------------------------- combined columns

/** One row's values of a field several columns fill (internal/mapspec combine.go). */
export interface CombinedValue {
  field: string;
  line: number;
  sourceId?: string;
  sources: Array<{ column: string; value: string }> | null;
  result: string;
  /** Columns whose non-empty values were not migrated. */
  dropped?: string[] | null;
}

/** A field several columns of a file fill: how they combine, and what was not migrated. */
export interface CombinedField {
  field: string;
  mode: CombineMode;
  separator?: string;
  explicit: boolean;
  columns: string[] | null;
  /** Migrated rows where several of the columns had a value. */
  rows: number;
  /** Migrated rows where a value was not migrated. */
  droppedRows: number;
  droppedBy: Record<string, number> | null;
  examples: CombinedValue[] | null;
  droppedExamples: CombinedValue[] | null;
}

export interface FileCombined {
  file: string;
  entity: string;
  fields: CombinedField[] | null;
}

/** The row of an uploaded file a TEST record came from. */
export interface TestSourceRow {
  file: string;
  line: number;
  columns: string[];
  values: string[];
}

/** A record as the TEST environment holds it: typed fields (lists, money as {amount, currency}, numbers, booleans), values left out, its source row. */
export interface TestRecord {
  id: string;
  entity: string;
  sourceId: string;
  round: number;
  fields: Record<string, unknown>;
  invalid?: Record<string, { value: string; reason: string }> | null;
  source?: TestSourceRow | null;
}

/** GET /migrations/{id}/test-records: a page of the round's TEST records, or (another destination) where they are. */
export interface TestRecordsPage {
  round: number;
  destination: 'builtin' | 'https' | 's3' | string;
  query?: string;
  records: TestRecord[] | null;
  examined: number;
  next?: string;
  stagingUrl?: string;
  message?: string;
}

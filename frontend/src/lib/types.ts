// The shapes the cutover HTTP API answers with (see README "HTTP API").
// Optional where the server omits empty values.

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
  finalPlan?: { chunks: number; rows: number };
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
  workbook?: { round: number; spotChecks: number; entities: EntityReconciled[] | null; createdAt?: string };
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
  /** Records kept apart although a record with another source id shares their dedupe key. */
  possibleDuplicates?: number;
  duplicates?: PossibleDuplicate[] | null;
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
}

export interface ReviewAnswer {
  review: Record<string, ReviewMark> | null;
  open: string[] | null;
}

// ------------------------------------------------------------ mapping

export interface FieldMapping {
  target: string;
  column?: string;
  columns?: string[];
  constant?: string;
  steps?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface MappingFile {
  name: string;
  entity: string;
  sourceId?: string[];
  dedupe?: string[];
  fields: FieldMapping[];
  /** Other headers that mean a column the spec reads (internal/mapspec aliases.go). */
  aliases?: Record<string, string[]>;
  /** People a row names inline, filling a reference (internal/mapspec inline.go). */
  inline?: InlinePerson[];
  /** Overrides the spec's defaults for this file (internal/mapspec spec.go). */
  defaults?: MappingDefaults;
  [key: string]: unknown;
}

/** Defaults for every step that does not say otherwise; the site edits only dateFormats. */
export interface MappingDefaults {
  /** Date formats the file's dates are written in, e.g. "DD/MM/YYYY", "ISO". */
  dateFormats?: string[];
  [key: string]: unknown;
}

export interface InlinePerson {
  target: string;
  name: string;
  email?: string;
  phone?: string;
  separators?: string[];
  optional?: boolean;
}

export interface MappingSpec {
  version: number;
  files: MappingFile[];
  defaults?: MappingDefaults;
  [key: string]: unknown;
}

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
}

// ------------------------------------------------------------ ops

export interface Chunk {
  index: number;
  fileId?: string;
  fileName: string;
  start?: number;
  end?: number;
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

export interface OpsDetail {
  migration: Migration;
  audit: AuditEvent[] | null;
  chunks: Chunk[] | null;
  mail?: MailItem[] | null;
  execution: Execution | null;
}

/** A re-issued invite: the new link, shown once. */
export interface ReissuedInvite {
  inviteUrl: string;
  inviteMailed: boolean;
}

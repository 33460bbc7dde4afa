package cutover

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Status is where a migration stands in its lifecycle.
type Status string

// The statuses, in the order a migration normally passes through them.
const (
	StatusCreated          Status = "created"           // invited; waiting for the test extract
	StatusSubmitted        Status = "submitted"         // a round was submitted; the state machine picks it up
	StatusMapping          Status = "mapping"           // Map step
	StatusTestMigrating    Status = "test_migrating"    // TestMigrate step
	StatusAwaitingReview   Status = "awaiting_review"   // the customer reviews the workbook, then requests sign-off
	StatusSignOffRequested Status = "signoff_requested" // the customer asked; the link is on its way
	StatusAwaitingSignOff  Status = "awaiting_signoff"  // the coordinator has the link
	StatusSignOffExpired   Status = "signoff_expired"   // no decision in time; the customer may request sign-off again
	StatusAwaitingRevision Status = "awaiting_revision" // rejected; the customer revises
	StatusAwaitingFinal    Status = "awaiting_final"    // approved; waiting for the final extract and go-live time
	StatusScheduled        Status = "scheduled"         // waiting for the go-live time
	StatusFinalMigrating   Status = "final_migrating"   // FinalMigrate steps: plan, chunks, finish
	StatusFinalBlocked     Status = "final_blocked"     // some final chunks failed; ops retry them
	StatusLive             Status = "live"              // done, live and locked
	StatusFailed           Status = "failed"            // a step failed; see Failure
)

// File purposes.
const (
	PurposeTest  = "test"
	PurposeFinal = "final"
)

// File is one uploaded export.
type File struct {
	ID          string    `json:"id" dynamodbav:"id"`
	Name        string    `json:"name" dynamodbav:"name"`
	Key         string    `json:"-" dynamodbav:"key"`
	UploadID    string    `json:"-" dynamodbav:"uploadId,omitempty"`
	Size        int64     `json:"size" dynamodbav:"size"`
	Purpose     string    `json:"purpose" dynamodbav:"purpose"`
	Round       int       `json:"round" dynamodbav:"round"`
	Complete    bool      `json:"complete" dynamodbav:"complete"`
	StartedAt   time.Time `json:"startedAt" dynamodbav:"startedAt"`
	CompletedAt time.Time `json:"completedAt,omitzero" dynamodbav:"completedAt,omitempty"`
	// Refused says why the file cannot be migrated (it is not a spreadsheet
	// export the reader can read); a refused file is in no round.
	Refused string `json:"refused,omitempty" dynamodbav:"refused,omitempty"`
	// Encoding and Delimiter are the customer's choice of how to read the
	// file, when detection cannot be sure (a legacy code page) or is
	// wrong; "" detects. Every step that reads the file uses them.
	// Encoding is a name tabular accepts, Delimiter one character ("\t"
	// for tab); both are bounded by MaxEncodingNameBytes and
	// MaxDelimiterBytes.
	Encoding  string `json:"encoding,omitempty" dynamodbav:"encoding,omitempty"`
	Delimiter string `json:"delimiter,omitempty" dynamodbav:"delimiter,omitempty"`
}

// Counts account for every row read: Read = Migrated + Merged + Rejected
// + Skipped.
type Counts struct {
	Read       int    `json:"read" dynamodbav:"read"`
	Migrated   int    `json:"migrated" dynamodbav:"migrated"`
	Merged     int    `json:"merged" dynamodbav:"merged"` // duplicates merged into another record
	Rejected   int    `json:"rejected" dynamodbav:"rejected"`
	Skipped    int    `json:"skipped" dynamodbav:"skipped"` // by a named rule
	Orphans    int    `json:"orphans" dynamodbav:"orphans"` // references to records in none of the files
	Derived    int    `json:"derived" dynamodbav:"derived"` // records derived from people named inline (not rows read; outside the balance)
	RejectsKey string `json:"-" dynamodbav:"rejectsKey,omitempty"`
}

// Balanced reports whether every row read is accounted for.
func (c Counts) Balanced() bool { return c.Read == c.Migrated+c.Merged+c.Rejected+c.Skipped }

// Add returns the sum of two counts (RejectsKey is kept from c).
func (c Counts) Add(o Counts) Counts {
	c.Read += o.Read
	c.Migrated += o.Migrated
	c.Merged += o.Merged
	c.Rejected += o.Rejected
	c.Skipped += o.Skipped
	c.Orphans += o.Orphans
	c.Derived += o.Derived
	return c
}

// PendingTask is a Step Functions callback the migration is parked on. The
// token stays server-side: it is never part of any API response.
type PendingTask struct {
	Kind  string `json:"kind" dynamodbav:"kind"` // "revision" or "final"
	Token string `json:"-" dynamodbav:"token"`
	Round int    `json:"round" dynamodbav:"round"`
}

// Kinds of customer callbacks.
const (
	TaskReview   = "review"   // review the workbook, then request sign-off
	TaskExpired  = "expired"  // the sign-off request expired; request it again
	TaskRevision = "revision" // rejected: revise, then submit the next round
	TaskFinal    = "final"    // approved: the final extract and go-live time
	TaskChunks   = "chunks"   // final chunks failed: ops retry them
)

// ReviewMark is the customer's mark on one section of the workbook.
type ReviewMark struct {
	State string    `json:"state" dynamodbav:"state"` // "reviewed" or "waived"
	Note  string    `json:"note,omitempty" dynamodbav:"note,omitempty"`
	At    time.Time `json:"at" dynamodbav:"at"`
}

// SignOffRecord is what a decided sign-off froze.
type SignOffRecord struct {
	Round          int       `json:"round" dynamodbav:"round"`
	MappingVersion int       `json:"mappingVersion" dynamodbav:"mappingVersion"`
	MappingHash    string    `json:"mappingHash" dynamodbav:"mappingHash"`
	WorkbookKey    string    `json:"-" dynamodbav:"workbookKey,omitempty"` // the workbook approved
	WorkbookSeed   uint64    `json:"workbookSeed,omitempty" dynamodbav:"workbookSeed,omitempty"`
	DecidedBy      string    `json:"decidedBy" dynamodbav:"decidedBy"`
	DecidedAt      time.Time `json:"decidedAt" dynamodbav:"decidedAt"`
	Comment        string    `json:"comment,omitempty" dynamodbav:"comment,omitempty"`
}

// Failure is why a migration stopped.
type Failure struct {
	Step   string    `json:"step" dynamodbav:"step"`
	Reason string    `json:"reason" dynamodbav:"reason"`
	At     time.Time `json:"at" dynamodbav:"at"`
}

// Migration is one customer's move from their old CRM. Version is the
// optimistic-concurrency counter: every save must name the version it read.
type Migration struct {
	ID               string                `json:"id" dynamodbav:"id"`
	TenantID         string                `json:"tenantId" dynamodbav:"tenantId"`
	CustomerName     string                `json:"customerName" dynamodbav:"customerName"`
	CustomerEmail    string                `json:"customerEmail" dynamodbav:"customerEmail"`
	CoordinatorEmail string                `json:"coordinatorEmail" dynamodbav:"coordinatorEmail"`
	KeyHash          string                `json:"-" dynamodbav:"keyHash"`
	Status           Status                `json:"status" dynamodbav:"status"`
	Round            int                   `json:"round" dynamodbav:"round"`
	Files            []File                `json:"files" dynamodbav:"files"`
	MappingVersion   int                   `json:"mappingVersion" dynamodbav:"mappingVersion"`
	Mapping          string                `json:"mapping,omitempty" dynamodbav:"mapping,omitempty"`           // the mapping spec, JSON
	DraftMapping     string                `json:"draftMapping,omitempty" dynamodbav:"draftMapping,omitempty"` // the customer's revision, used by the next round
	MappingHash      string                `json:"mappingHash,omitempty" dynamodbav:"mappingHash,omitempty"`
	Test             *Counts               `json:"test,omitempty" dynamodbav:"test,omitempty"`
	Final            *Counts               `json:"final,omitempty" dynamodbav:"final,omitempty"`
	FinalPlan        *FinalPlan            `json:"finalPlan,omitempty" dynamodbav:"finalPlan,omitempty"`
	FinalReport      *FinalSummary         `json:"finalReport,omitempty" dynamodbav:"finalReport,omitempty"`
	Preflight        *PreflightSummary     `json:"preflight,omitempty" dynamodbav:"preflight,omitempty"` // the latest pre-flight of the final extract
	SignOff          *SignOffRecord        `json:"signOff,omitempty" dynamodbav:"signOff,omitempty"`
	CurrentLink      string                `json:"-" dynamodbav:"currentLink,omitempty"` // hash of the live sign-off link
	DecidedLink      string                `json:"-" dynamodbav:"decidedLink,omitempty"` // hash of the link whose decision is recorded here, so recording it again changes nothing
	Pending          *PendingTask          `json:"pending,omitempty" dynamodbav:"pending,omitempty"`
	FinalFileIDs     []string              `json:"finalFileIds,omitempty" dynamodbav:"finalFileIds,omitempty"`
	GoLiveAt         time.Time             `json:"goLiveAt,omitzero" dynamodbav:"goLiveAt,omitempty"`
	WentLiveAt       time.Time             `json:"wentLiveAt,omitzero" dynamodbav:"wentLiveAt,omitempty"`
	ExecutionName    string                `json:"executionName,omitempty" dynamodbav:"executionName,omitempty"`
	Checklist        map[string]int        `json:"checklist,omitempty" dynamodbav:"checklist,omitempty"`       // entity -> the count the customer sees in the old CRM
	SpotCheckIDs     map[string][]string   `json:"spotCheckIds,omitempty" dynamodbav:"spotCheckIds,omitempty"` // entity -> source ids the customer wants to see side by side
	Workbook         *WorkbookSummary      `json:"workbook,omitempty" dynamodbav:"workbook,omitempty"`
	Review           map[string]ReviewMark `json:"review,omitempty" dynamodbav:"review,omitempty"` // this round's workbook marks, by section
	Failure          *Failure              `json:"failure,omitempty" dynamodbav:"failure,omitempty"`
	Invites          int                   `json:"invites" dynamodbav:"invites"`                        // invite links issued; each re-issue revokes the one before
	InvitedAt        time.Time             `json:"invitedAt,omitzero" dynamodbav:"invitedAt,omitempty"` // when the current invite was mailed, so later mails can name it
	TimeZone         string                `json:"timeZone,omitempty" dynamodbav:"timeZone,omitempty"`  // the customer's IANA zone (from their browser), for times in mails
	Market           string                `json:"market,omitempty" dynamodbav:"market,omitempty"`      // ISO 3166-1 alpha-2 country the customer trades in: the phone region when a file says nothing, the tie-break for dates that read both ways
	CreatedAt        time.Time             `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt        time.Time             `json:"updatedAt" dynamodbav:"updatedAt"`
	Version          int                   `json:"version" dynamodbav:"version"`

	// FinalMatches is each final table's signed-off entry, stored at POST
	// final (at most MaxFinalMatches): every final step (pre-flight, plan,
	// chunks) reads the final extract with these, never a guess.
	FinalMatches []FinalMatch `json:"finalMatches,omitempty" dynamodbav:"finalMatches,omitempty"`
}

// FileByID returns the file with that id, or nil.
func (m *Migration) FileByID(id string) *File {
	for i := range m.Files {
		if m.Files[i].ID == id {
			return &m.Files[i]
		}
	}
	return nil
}

// TestFiles returns the completed test-extract files that round uses: those
// uploaded for it, or, when the customer uploaded nothing new for it, those
// of the latest earlier round that had any.
func (m *Migration) TestFiles(round int) []File {
	for r := round; r >= 1; r-- {
		var out []File
		for _, f := range m.Files {
			if f.Purpose == PurposeTest && f.Complete && f.Refused == "" && f.Round == r {
				out = append(out, f)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// FinalFiles returns the files the final migration reads: the chosen final
// extract, or the signed-off test extract when the customer confirmed it is final.
func (m *Migration) FinalFiles() []File {
	if len(m.FinalFileIDs) == 0 {
		return m.TestFiles(m.Round)
	}
	var out []File
	for _, id := range m.FinalFileIDs {
		if f := m.FileByID(id); f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// WorkbookSummary is the test migration's workbook in brief: where the full
// workbook is, and each entity's reconciliation status.
type WorkbookSummary struct {
	Round     int                `json:"round" dynamodbav:"round"`
	Key       string             `json:"-" dynamodbav:"key"`
	Snapshot  string             `json:"-" dynamodbav:"snapshot,omitempty"` // the round's records, for the final migration's delta
	Seed      uint64             `json:"seed" dynamodbav:"seed"`
	Spots     int                `json:"spotChecks" dynamodbav:"spots"` // how many spot checks there are to tick
	Entities  []EntityReconciled `json:"entities" dynamodbav:"entities"`
	Issues    *IssueSummary      `json:"issues,omitempty" dynamodbav:"issues,omitempty"`
	CreatedAt time.Time          `json:"createdAt" dynamodbav:"createdAt"`
	// WaiveOnly are the spot checks (by index) with no record to call
	// right: named rows that were rejected, skipped or not found. They can
	// only be waived with a note.
	WaiveOnly []int `json:"waiveOnly,omitempty" dynamodbav:"waiveOnly,omitempty"`
	// WarningGroups is how many groups of "!" warnings there are to mark
	// (as "warn:0", "warn:1", ...), at most workbook.MaxWarningGroups.
	WarningGroups int `json:"warningGroups" dynamodbav:"warnGroups,omitempty"`
	// Duplicates counts the rows merged into another record and the
	// records kept apart as possible duplicates, for the sign-off page.
	Duplicates *DuplicateCounts `json:"duplicates,omitempty" dynamodbav:"duplicates,omitempty"`
}

// IssueSummary is the workbook's issues in brief, for the coordinator:
// rejected rows by reason (the most frequent first), rows migrated with a
// warning, and references to records in none of the files.
type IssueSummary struct {
	Rejected []RejectReason `json:"rejected" dynamodbav:"rejected"`
	Warned   int            `json:"warned" dynamodbav:"warned"`
	Orphans  int            `json:"orphans" dynamodbav:"orphans"`
}

// RejectReason is how many rows of a file were rejected for one reason.
type RejectReason struct {
	File   string `json:"file" dynamodbav:"file"`
	Entity string `json:"entity" dynamodbav:"entity"`
	Reason string `json:"reason" dynamodbav:"reason"`
	Count  int    `json:"count" dynamodbav:"count"`
}

// EntityReconciled is one entity's reconciliation status.
type EntityReconciled struct {
	Entity    string `json:"entity" dynamodbav:"entity"`
	Checklist *int   `json:"checklist,omitempty" dynamodbav:"checklist,omitempty"`
	Rows      int    `json:"rows" dynamodbav:"rows"`
	Migrated  int    `json:"migrated" dynamodbav:"migrated"`
	Status    string `json:"status" dynamodbav:"status"` // match, explained, unexplained
}

// FinalPlan is what planning the final migration found: how many chunks
// the extract was cut into and how many rows its files hold. The final
// migration finishes only when its chunks are exactly these and read
// exactly these rows. Manifest and Results say where ops find what the
// state machine's Distributed Map read (one line per chunk) and what its
// latest run wrote (each chunk's outcome): keys in the uploads bucket.
type FinalPlan struct {
	Chunks   int    `json:"chunks" dynamodbav:"chunks"`
	Rows     int    `json:"rows" dynamodbav:"rows"`
	Manifest string `json:"manifest,omitempty" dynamodbav:"manifest,omitempty"`
	Results  string `json:"results,omitempty" dynamodbav:"results,omitempty"`
	// Partitions is the id shuffle's (several chunks keep source ids
	// unique between them); 0 for an extract of one chunk.
	Partitions int `json:"partitions,omitempty" dynamodbav:"partitions,omitempty"`
	// Merges is how many of the Chunks are merge partitions (Chunk.Merge),
	// after the chunks that read; 0 when records are not merged across
	// chunks.
	Merges int `json:"merges,omitempty" dynamodbav:"merges,omitempty"`
	// Aliases says the id shuffle runs its alias round: a reference names
	// an entity whose records merge across source ids, or a row names
	// people inline (the round decides which chunk derives each; a plan
	// made before it did says false for those).
	Aliases bool `json:"aliases,omitempty" dynamodbav:"aliases,omitempty"`
	// Links says it runs its links round after the alias round: a person
	// named inline may be a record of such an entity.
	Links bool `json:"links,omitempty" dynamodbav:"links,omitempty"`
	// LiveShards is the LiveShards the final writes LIVE with
	// (Target.LiveShards); 0 for a final planned before LIVE was sharded.
	LiveShards int `json:"liveShards,omitempty" dynamodbav:"liveShards,omitempty"`
}

// FinalSummary is the final migration's report in brief: per entity, the
// reconciliation against the checklist and the delta against the test
// extract; the full report and the delta CSV are artifacts.
type FinalSummary struct {
	ReportKey string        `json:"-" dynamodbav:"reportKey"`
	DeltaKey  string        `json:"-" dynamodbav:"deltaKey"`
	Chunks    int           `json:"chunks" dynamodbav:"chunks"`
	Entities  []EntityFinal `json:"entities" dynamodbav:"entities"`
	CreatedAt time.Time     `json:"createdAt" dynamodbav:"createdAt"`
}

// EntityFinal is one entity's final account.
type EntityFinal struct {
	EntityReconciled
	Added   int `json:"added" dynamodbav:"added"`     // records not in the test extract
	Removed int `json:"removed" dynamodbav:"removed"` // test records not in the final extract
	Changed int `json:"changed" dynamodbav:"changed"` // records whose fields changed since the test extract
}

// Execution is a migration's state machine execution as ops see it.
type Execution struct {
	Name      string           `json:"name"`
	Status    string           `json:"status"`
	StartDate time.Time        `json:"startDate"`
	StopDate  time.Time        `json:"stopDate,omitzero"`
	Events    []ExecutionEvent `json:"events"` // newest first
}

// ExecutionEvent is one event of an execution's history.
type ExecutionEvent struct {
	Timestamp time.Time `json:"timestamp"`
	Type      string    `json:"type"`
	State     string    `json:"state,omitempty"`
}

// ChunkStatus is where one chunk of the final migration stands.
type ChunkStatus string

// Chunk statuses.
const (
	ChunkPending ChunkStatus = "pending"
	ChunkRunning ChunkStatus = "running"
	ChunkDone    ChunkStatus = "done"
	ChunkFailed  ChunkStatus = "failed"
)

// Chunk is one piece of the final migration: a byte range of one final
// file, read with the file's header in front, or a whole file (one that
// cannot be split, or every file at once when the mapping merges records
// across rows). A chunk that is done is never run again.
type Chunk struct {
	Index     int    `json:"index" dynamodbav:"index"`
	FileID    string `json:"fileId,omitempty" dynamodbav:"fileId,omitempty"` // "" when the chunk is every final file
	FileName  string `json:"fileName" dynamodbav:"fileName"`
	Start     int64  `json:"start" dynamodbav:"start"`
	End       int64  `json:"end" dynamodbav:"end"` // 0: to the end of the file (a whole file)
	HeaderEnd int64  `json:"-" dynamodbav:"headerEnd"`
	// LineOffset turns the chunk's own line numbers into the file's.
	LineOffset int    `json:"-" dynamodbav:"lineOffset"`
	Encoding   string `json:"-" dynamodbav:"encoding,omitempty"`
	Delimiter  string `json:"-" dynamodbav:"delimiter,omitempty"`
	// Merge marks a merge partition: a step that reads no file but the
	// records the chunks before it spilled for one partition of dedupe
	// keys, merges them and writes them (a mapping that merges records
	// across chunks). It runs after every chunk that reads.
	Merge bool `json:"merge,omitempty" dynamodbav:"merge,omitempty"`

	Status     ChunkStatus `json:"status" dynamodbav:"status"`
	Attempts   int         `json:"attempts" dynamodbav:"attempts"`
	Counts     Counts      `json:"counts" dynamodbav:"counts"`
	Reports    string      `json:"-" dynamodbav:"reports,omitempty"`  // the chunk's per-table reports, JSON
	Rejects    []string    `json:"-" dynamodbav:"rejects,omitempty"`  // keys of its rejects files
	Snapshot   string      `json:"-" dynamodbav:"snapshot,omitempty"` // key of its records' snapshot
	Error      string      `json:"error,omitempty" dynamodbav:"error,omitempty"`
	StartedAt  time.Time   `json:"startedAt,omitzero" dynamodbav:"startedAt,omitempty"`
	FinishedAt time.Time   `json:"finishedAt,omitzero" dynamodbav:"finishedAt,omitempty"`
}

// AuditEvent is one entry of a migration's audit trail.
type AuditEvent struct {
	At     time.Time `json:"at" dynamodbav:"at"`
	Actor  string    `json:"actor" dynamodbav:"actor"`
	Action string    `json:"action" dynamodbav:"action"`
	Detail string    `json:"detail,omitempty" dynamodbav:"detail,omitempty"`
}

// TenantLock records that a tenant's live data has been (or is being)
// written by one migration. It is taken once and never released.
type TenantLock struct {
	TenantID    string    `json:"tenantId" dynamodbav:"tenantId"`
	MigrationID string    `json:"migrationId" dynamodbav:"migrationId"`
	TakenAt     time.Time `json:"takenAt" dynamodbav:"takenAt"`
}

// NewSecret returns a random URL-safe secret with n bytes of entropy. It
// panics only if the system's random source fails, which crypto/rand
// documents as never happening on supported platforms.
func NewSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewID returns a random identifier with a prefix, safe for URLs, S3 keys and
// Step Functions execution names.
func NewID(prefix string) string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

// HashSecret returns the stored form of a secret: hex SHA-256.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretMatches reports, in constant time, whether secret hashes to hash.
func SecretMatches(secret, hash string) bool {
	if secret == "" || hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}

// Record is one canonical record produced by the mapping.
type Record struct {
	ID        string            `json:"id"`
	Entity    string            `json:"entity"`
	SourceID  string            `json:"sourceId"`
	SourceRow int               `json:"sourceRow"`
	Fields    map[string]string `json:"fields"`
	// Invalid holds, by field, the values the mapping left out because
	// they could not be read (a bad phone, date, number or enum value in
	// an otherwise good row), so what the customer wrote and why it was
	// refused stay with the record in TEST and LIVE instead of being
	// dropped silently. Nil for most records.
	Invalid map[string]InvalidValue `json:"invalid,omitempty"`
	// Lists holds, by field, a list field's items as the mapping read
	// them. Fields joins them with "; " for people and our tables' text,
	// but an item may hold "; " itself, so a destination that receives
	// lists as lists reads them here, never by splitting that text.
	Lists map[string][]string `json:"lists,omitempty"`
	// RefIDs holds, by field, the record id each referenced source id
	// resolved to once every record of the pass was known: a source id a
	// dedupe merged into another record resolves to the surviving record,
	// which is the one written. A reference nothing resolved (an orphan,
	// or a pass that does not resolve references) is not in it.
	RefIDs map[string]map[string]string `json:"refIds,omitempty"`
	// Source is the row of the uploaded file the record came from, kept
	// only by a test migration (the TEST environment stores it so the
	// customer can browse each record beside its row); nil otherwise. It
	// is never sent to a vendor's destination.
	Source *SourceRow `json:"-"`
}

// InvalidValue is a field's raw value that could not be read, and why.
type InvalidValue struct {
	Value  string `json:"value"`  // the raw text, cut to MaxInvalidValueBytes
	Reason string `json:"reason"` // written for people
}

// KeepInvalid returns raw cut to MaxInvalidValueBytes at a rune boundary,
// with "…" marking a cut, so that a record's left-out values cannot grow
// its item past DynamoDB's 400 KB limit however long a field the reader
// allowed: a phone, date, number or enum value that long is not one a
// person needs whole, and the rejects file of the round keeps the row.
func KeepInvalid(raw string) string {
	return cutText(raw, MaxInvalidValueBytes)
}

// SegmentRecords is about how many records one slice of a migration's
// records (RecordIDPrefixes) is cut for: few enough for one step to reset
// or rewrite them well within a Lambda's time.
const SegmentRecords = 200_000

// RecordIDPrefixes cuts a migration's records, about n of them, into
// slices one step each can reset or rewrite (at most SegmentRecords on
// average): the slices are the records whose RecordID begins with each of
// the returned prefixes. Record ids are uniform hexadecimal, so the slices
// are even, and every id begins with exactly one prefix: [""] (one slice,
// every record) up to SegmentRecords, then the 16 hex digits, then the 256
// pairs of them (100 million records give about 390,000 a slice).
func RecordIDPrefixes(n int) []string {
	digits := 0
	switch {
	case n > 16*SegmentRecords:
		digits = 2
	case n > SegmentRecords:
		digits = 1
	}
	out := []string{""}
	for range digits {
		next := make([]string, 0, len(out)*16)
		for _, p := range out {
			for _, h := range "0123456789abcdef" {
				next = append(next, p+string(h))
			}
		}
		out = next
	}
	return out
}

// RecordID returns the deterministic id of a record: the same tenant, entity
// and source id always give the same id, so retries converge.
func RecordID(tenantID, entity, sourceID string) string {
	sum := sha256.Sum256([]byte(tenantID + "\x00" + entity + "\x00" + sourceID))
	return hex.EncodeToString(sum[:16])
}

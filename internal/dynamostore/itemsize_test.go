package dynamostore

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/workbook"
)

// DynamoDB's item size limit, and the share of it a migration may take at
// most, so that a bound can be raised a little without an emergency and
// the fields nobody bounded by hand (timestamps, counts) have room.
const (
	itemLimit  = 400 * 1024
	itemBudget = itemLimit * 85 / 100
)

// sfnLimits are Step Functions' own bounds on what it hands the service.
const (
	taskTokenBytes = 2048 // a task token, stored as the pending callback
	// uploadIDBytes is S3's multipart upload id, kept while an upload is
	// unfinished: S3 documents no bound; its ids are about 100 bytes.
	uploadIDBytes = 256
)

// TestWorstCaseMigrationFits builds a migration with every list and string
// the API and the steps store at its bound (cutover's limits), marshals it
// exactly as SaveMigration does, and sizes the item by DynamoDB's rules. It
// fails when someone raises a bound the item cannot afford.
func TestWorstCaseMigrationFits(t *testing.T) {
	m := worstCaseMigration()
	// A field added to Migration must be given its worst case here too.
	rv := reflect.ValueOf(*m)
	for i := 0; i < rv.NumField(); i++ {
		if rv.Field(i).IsZero() && rv.Type().Field(i).Name != "Version" {
			t.Fatalf("worstCaseMigration leaves %s empty: give it its largest value", rv.Type().Field(i).Name)
		}
	}
	item, err := (&Migrations{Table: "t"}).migrationItem(m, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	size := itemSize(item)
	parts := map[string]int{}
	for k, v := range item {
		parts[k] = attrSize(k, v)
	}
	t.Logf("worst-case migration item: %d bytes of %d (budget %d); files %d, mapping %d, draftMapping %d, review %d, spotCheckIds %d, workbook %d, failure %d, signOff %d",
		size, itemLimit, itemBudget, parts["files"], parts["mapping"], parts["draftMapping"], parts["review"], parts["spotCheckIds"], parts["workbook"], parts["failure"], parts["signOff"])
	if size > itemBudget {
		t.Fatalf("a migration at its bounds is %d bytes: over the budget of %d (DynamoDB's limit is %d). Lower a bound in internal/cutover/limits.go, or move the list that grew out of the item.", size, itemBudget, itemLimit)
	}
}

// The sizing must agree with DynamoDB's documented examples, or the test
// above proves nothing.
func TestItemSizeFollowsDynamoDBRules(t *testing.T) {
	for _, c := range []struct {
		name string
		v    ddb.AttributeValue
		want int
	}{
		{"s", &ddb.AttributeValueMemberS{Value: "héllo"}, 1 + 6},
		{"n", &ddb.AttributeValueMemberN{Value: "123456"}, 1 + 3 + 1},
		{"ok", &ddb.AttributeValueMemberBOOL{Value: true}, 2 + 1},
		{"nil", &ddb.AttributeValueMemberNULL{Value: true}, 3 + 1},
		{"l", &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{&ddb.AttributeValueMemberS{Value: "ab"}}}, 1 + 3 + 1 + 2},
		{"m", &ddb.AttributeValueMemberM{Value: map[string]ddb.AttributeValue{"k": &ddb.AttributeValueMemberS{Value: "ab"}}}, 1 + 3 + 1 + 1 + 2},
		{"e", &ddb.AttributeValueMemberM{}, 1 + 3},
	} {
		if got := attrSize(c.name, c.v); got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, got, c.want)
		}
	}
}

// itemSize is an item's size by DynamoDB's rules: each attribute's name
// and value (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
func itemSize(item map[string]ddb.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += attrSize(k, v)
	}
	return n
}

// attrSize is one attribute: its name's UTF-8 bytes plus its value. A
// string or binary is its bytes; a number about one byte per two
// significant digits plus one; a boolean or null one byte; a list or map
// three bytes plus one per element plus its elements (a map's with their
// names).
func attrSize(name string, v ddb.AttributeValue) int {
	return len(name) + valueSize(v)
}

func valueSize(v ddb.AttributeValue) int {
	switch v := v.(type) {
	case *ddb.AttributeValueMemberS:
		return len(v.Value)
	case *ddb.AttributeValueMemberN:
		digits := len(strings.Trim(strings.NewReplacer("-", "", ".", "").Replace(v.Value), "0"))
		return (digits+1)/2 + 1
	case *ddb.AttributeValueMemberB:
		return len(v.Value)
	case *ddb.AttributeValueMemberBOOL, *ddb.AttributeValueMemberNULL:
		return 1
	case *ddb.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *ddb.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *ddb.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + attrSize(k, e)
		}
		return n
	default:
		panic(fmt.Sprintf("unsized attribute type %T", v))
	}
}

// worstCaseMigration is a migration with every bounded list and string at
// its bound. Strings use a three-byte character where a bound counts
// bytes, which is what the limits count.
func worstCaseMigration() *cutover.Migration {
	fill := func(n int) string { return strings.Repeat("x", n) }
	at := time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC)
	big := 1_000_000_000
	sch := schema.Default()
	entities := sch.EntityNames()
	id := "m-" + fill(20)
	m := &cutover.Migration{
		ID: id, TenantID: fill(63), CustomerName: fill(cutover.MaxCustomerNameBytes),
		CustomerEmail: fill(cutover.MaxEmailBytes), CoordinatorEmail: fill(cutover.MaxEmailBytes),
		KeyHash: fill(64), Status: cutover.StatusSignOffRequested, Round: big,
		MappingVersion: big, Mapping: fill(cutover.MaxMappingBytes), DraftMapping: fill(cutover.MaxMappingBytes),
		MappingHash:   "sha256:" + fill(64),
		Test:          &cutover.Counts{Read: big, Migrated: big, Merged: big, Rejected: big, Skipped: big, Orphans: big, RejectsKey: fill(300)},
		Final:         &cutover.Counts{Read: big, Migrated: big, Merged: big, Rejected: big, Skipped: big, Orphans: big, RejectsKey: fill(300)},
		FinalPlan:     &cutover.FinalPlan{Chunks: big, Rows: big},
		SignOff:       &cutover.SignOffRecord{Round: big, MappingVersion: big, MappingHash: fill(71), WorkbookKey: fill(300), WorkbookSeed: 1<<64 - 1, DecidedBy: "coordinator:" + fill(cutover.MaxEmailBytes), DecidedAt: at, Comment: fill(cutover.MaxCommentBytes)},
		CurrentLink:   fill(64),
		DecidedLink:   fill(64),
		Invites:       big,
		InvitedAt:     at,
		TimeZone:      fill(cutover.MaxTimeZoneBytes),
		Pending:       &cutover.PendingTask{Kind: cutover.TaskRevision, Token: fill(taskTokenBytes), Round: big},
		GoLiveAt:      at,
		WentLiveAt:    at,
		ExecutionName: fill(80),
		Checklist:     map[string]int{},
		SpotCheckIDs:  map[string][]string{},
		Review:        map[string]cutover.ReviewMark{},
		Failure:       &cutover.Failure{Step: "final_migrating", Reason: fill(cutover.MaxFailureBytes), At: at},
		CreatedAt:     at, UpdatedAt: at,
	}
	m.Market = fill(2) // cutover.CheckMarket: a two-letter country code
	for i := 0; i < cutover.MaxUploads; i++ {
		fid := fmt.Sprintf("f-%018d", i)
		name := fill(cutover.MaxFileNameBytes)
		m.Files = append(m.Files, cutover.File{
			ID: fid, Name: name, Key: "migrations/" + id + "/" + fid + "/" + name, UploadID: fill(uploadIDBytes),
			Size: 5 << 40, Purpose: cutover.PurposeFinal, Round: big, Complete: true, StartedAt: at, CompletedAt: at, Refused: fill(cutover.MaxReasonBytes),
			Encoding: fill(cutover.MaxEncodingNameBytes), Delimiter: fill(cutover.MaxDelimiterBytes),
		})
	}
	for i := 0; i < cutover.MaxUploadsPerRound; i++ {
		m.FinalFileIDs = append(m.FinalFileIDs, m.Files[i].ID)
	}
	wb := &cutover.WorkbookSummary{
		Round: big, Key: fill(300), Snapshot: fill(300), Seed: 1<<64 - 1, Spots: big, CreatedAt: at,
		Issues: &cutover.IssueSummary{Warned: big, Orphans: big}, WarningGroups: workbook.MaxWarningGroups, Duplicates: &cutover.DuplicateCounts{Merged: big, Possible: big},
	}
	for i := 0; i < cutover.MaxSpotCheckIDs*len(entities); i++ {
		wb.WaiveOnly = append(wb.WaiveOnly, big) // every named spot check can be one with no record
	}
	fr := &cutover.FinalSummary{ReportKey: fill(300), DeltaKey: fill(300), Chunks: big, CreatedAt: at}
	for _, e := range entities {
		m.Checklist[e] = big
		for i := 0; i < cutover.MaxSpotCheckIDs; i++ {
			m.SpotCheckIDs[e] = append(m.SpotCheckIDs[e], fill(cutover.MaxSpotCheckIDBytes))
		}
		n := big
		rec := cutover.EntityReconciled{Entity: e, Checklist: &n, Rows: big, Migrated: big, Status: "unexplained"}
		wb.Entities = append(wb.Entities, rec)
		fr.Entities = append(fr.Entities, cutover.EntityFinal{EntityReconciled: rec, Added: big, Removed: big, Changed: big})
	}
	for i := 0; i < cutover.MaxSummaryReasons; i++ {
		wb.Issues.Rejected = append(wb.Issues.Rejected, cutover.RejectReason{File: fill(cutover.MaxFileNameBytes), Entity: "appointment", Reason: fill(cutover.MaxReasonBytes), Count: big})
	}
	m.Workbook, m.FinalReport = wb, fr
	pf := &cutover.PreflightSummary{
		Fingerprint: "sha256:" + fill(64), BreachKey: "sha256:" + fill(64), Phase: cutover.PreflightAtGoLive, Held: true, ReportKey: fill(300), CheckedAt: at,
		Reapproval: &cutover.PreflightApproval{Fingerprint: "sha256:" + fill(64), BreachKey: "sha256:" + fill(64), DecidedBy: "coordinator:" + fill(cutover.MaxEmailBytes), DecidedAt: at, Comment: fill(cutover.MaxCommentBytes)},
	}
	for i := 0; i < cutover.MaxPreflightBreaches; i++ {
		pf.Breaches = append(pf.Breaches, cutover.PreflightBreach{Rule: cutover.RuleColumnMissing, Entity: "appointment", Field: fill(64), Detail: fill(cutover.MaxReasonBytes)})
	}
	m.Preflight = pf
	// A table's name is a file id, with the sheet (31 characters in Excel,
	// up to 4 bytes each) for a workbook.
	table := "f-" + fill(20) + "#" + fill(124)
	for i := 0; i < cutover.MaxFinalMatches; i++ {
		// The file's name is not kept twice: its file (Files) has it.
		m.FinalMatches = append(m.FinalMatches, cutover.FinalMatch{FileID: "f-" + fill(20), Table: table, Entry: table, Entity: "appointment", Confirmed: true})
	}
	marks := []string{"reconciliation", "spotChecks", "issues", "fillRates", "unmapped"}
	// Each spot check can be ticked with a note: the named ones and those
	// the workbook samples, per entity.
	for i := 0; i < (cutover.MaxSpotCheckIDs+workbook.SpotChecksPerEntity)*len(entities); i++ {
		marks = append(marks, fmt.Sprintf("spot:%d", i))
	}
	// And each group of warnings, reviewed or waived with a note.
	for i := 0; i < workbook.MaxWarningGroups; i++ {
		marks = append(marks, fmt.Sprintf("warn:%d", i))
	}
	for _, k := range marks {
		m.Review[k] = cutover.ReviewMark{State: "reviewed", Note: fill(cutover.MaxReviewNoteBytes), At: at}
	}
	return m
}

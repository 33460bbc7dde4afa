package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/tabular"
	"github.com/cutover/cutover/internal/workbook"
)

// Service is the whole application as the Lambdas wire it, built from one
// set of fakes, so that a test can walk a migration through every service
// (create, submit, Map, TestMigrate, sign-off, the final migration, ops'
// retry) as the Lambdas do between them. Each call builds the service that
// owns the operation with its real constructor from the fields as they are
// then; a port the test left nil is one that answers EINTERNAL ("not wired
// in this test") if it is used, so a test never passes on a port it did not
// mean to reach.
type Service struct {
	Store     migration.Store
	Uploads   migration.Uploads
	Flow      migration.Flow
	Mailer    migration.Mailer
	Outbox    migration.Outbox
	Files     Files
	Downloads Downloads
	Test      TestEnv
	Live      liveWriter // LIVE's records, as a sink per tenant (the fake destination's)
	// Dest, when set, is the destination TEST and LIVE records go to;
	// otherwise a sinkDestination over Test's and Live's sinks.
	Dest   cutover.Destination
	fake   *sinkDestination
	Chunks migration.ChunkStore
	// TestChunks keeps the test migration's chunks (a fresh in-memory
	// store, kept on s, when the test sets none); TestChunkBytes is how
	// much of a file a test chunk reads (0: DefaultChunkBytes).
	TestChunks     TestChunks
	TestChunkBytes int64
	Runs           migration.Executions
	Watch          migration.ExecutionStatuses
	// Events, when set, is where the lifecycle events go (and where the
	// ops detail reads them).
	Events   *recordingAnnouncer
	SiteURL  string
	OpsEmail string
	Now      func() time.Time

	SignOffTimeoutSeconds  int
	SignOffReminderSeconds int
	ChunkBytes             int64
	Chunking               Chunking
	Thresholds             *cutover.Thresholds
	CompareBytes           int64 // snapshot bytes a key range of the comparison reads (0: DefaultCompareBytes)
	ReadLimits             tabular.XLSXLimits
	// OldDefinition runs the planning steps as an execution of a state
	// machine without the links round does: without LinksRound.
	OldDefinition bool
	// PlannedWithoutPeople makes a test round's plan one made before the
	// alias round decided who derives each person named inline
	// (idnaming.go): no alias round unless the links round needs it.
	PlannedWithoutPeople bool
}

// must panics on a wiring error: in a test it is a bug of the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// core builds the shared core. A test that wired no mail gets a mailer
// that sends nowhere and an outbox of its own, kept on s across calls.
func (s *Service) core() *migration.Core {
	var mailer migration.Mailer = nowhere{}
	if s.Mailer != nil {
		mailer = s.Mailer
	}
	if s.Outbox == nil {
		s.Outbox = newMemOutbox()
	}
	return s.announcing(must(migration.NewMailingCore(s.Store, mailer, s.Outbox, migration.Config{
		SiteURL: s.SiteURL, OpsEmail: s.OpsEmail, Now: s.Now,
		SignOffTimeoutSeconds: s.SignOffTimeoutSeconds, SignOffReminderSeconds: s.SignOffReminderSeconds,
	})))
}

// announcing wires the test's announcer into c, when the test set one.
func (s *Service) announcing(c *migration.Core) *migration.Core {
	if s.Events != nil {
		if err := c.AnnounceWith(s.Events); err != nil {
			panic(err)
		}
	}
	return c
}

func or[T any](v T, ok bool, fallback T) T {
	if ok {
		return v
	}
	return fallback
}

func (s *Service) flow() migration.Flow {
	return or(s.Flow, s.Flow != nil, migration.Flow(unwired{}))
}

func (s *Service) uploads() migration.Uploads {
	return or(s.Uploads, s.Uploads != nil, migration.Uploads(unwired{}))
}

func (s *Service) files() Files { return or(s.Files, s.Files != nil, Files(unwired{})) }

func (s *Service) customer() *migration.Customer {
	return must(migration.NewCustomer(s.core(), s.uploads(), s.flow()))
}

func (s *Service) rows() *Customer {
	c := must(NewCustomer(s.core(), s.uploads(), s.files(), or(s.Downloads, s.Downloads != nil, Downloads(signedLinks{})), s.flow()))
	c.ReadLimits = s.ReadLimits
	return c
}

func (s *Service) ops() *migration.Ops {
	return must(migration.NewOps(s.core(), s.flow(), or(s.Runs, s.Runs != nil, migration.Executions(unwired{})),
		or(s.Chunks, s.Chunks != nil, migration.ChunkStore(unwired{})), or(migration.EventLog(s.Events), s.Events != nil, migration.EventLog(unwired{}))))
}

func (s *Service) steps() *migration.Steps { return must(migration.NewSteps(s.core())) }

func (s *Service) test() TestEnv { return or(s.Test, s.Test != nil, TestEnv(unwiredTest{})) }

func (s *Service) completion() *migration.Completion {
	return must(migration.NewCompletion(s.core(), s.test()))
}

func (s *Service) reconciler() *migration.Reconciler {
	return must(migration.NewReconciler(s.core(), or(s.Watch, s.Watch != nil, migration.ExecutionStatuses(unwired{}))))
}

// plainCore is the core the Map and TestMigrate Lambdas are wired with: no
// mail (migration.NewCore), so a test that expects mail from them fails
// until their mains are given a mailer too.
func (s *Service) plainCore() *migration.Core {
	return s.announcing(must(migration.NewCore(s.Store, migration.Config{
		SiteURL: s.SiteURL, OpsEmail: s.OpsEmail, Now: s.Now,
		SignOffTimeoutSeconds: s.SignOffTimeoutSeconds, SignOffReminderSeconds: s.SignOffReminderSeconds,
	})))
}

func (s *Service) mapper() *Mapper {
	m := must(NewMapper(s.plainCore(), s.files()))
	m.ReadLimits = s.ReadLimits
	return m
}

func (s *Service) testRun() *TestRun {
	if s.TestChunks == nil {
		s.TestChunks = newMemTestChunks()
	}
	t := must(NewTestRun(s.plainCore(), s.files(), s.test(), s.dest(), s.TestChunks, TestConfig{ChunkBytes: s.TestChunkBytes, Chunking: s.Chunking, CompareBytes: s.CompareBytes}))
	t.ReadLimits = s.ReadLimits
	return t
}

func (s *Service) final() *Final {
	f := must(NewFinal(s.core(), s.files(), s.dest(),
		or(s.Chunks, s.Chunks != nil, migration.ChunkStore(unwired{})), FinalConfig{ChunkBytes: s.ChunkBytes, Thresholds: s.Thresholds, Chunking: s.Chunking, CompareBytes: s.CompareBytes}))
	f.ReadLimits = s.ReadLimits
	return f
}

// Ops.
func (s *Service) Create(ctx context.Context, actor string, in migration.CreateInput) (*migration.Created, error) {
	return s.ops().Create(ctx, actor, in)
}

func (s *Service) ReissueInvite(ctx context.Context, actor, id string) (*migration.Created, error) {
	return s.ops().ReissueInvite(ctx, actor, id)
}

func (s *Service) List(ctx context.Context) ([]*cutover.Migration, error) { return s.ops().List(ctx) }

func (s *Service) Get(ctx context.Context, id string) (*cutover.Migration, error) {
	return s.ops().Get(ctx, id)
}

func (s *Service) Execution(ctx context.Context, m *cutover.Migration) (*cutover.Execution, error) {
	return s.ops().Execution(ctx, m)
}

func (s *Service) FinalChunks(ctx context.Context, id string) ([]cutover.Chunk, error) {
	return s.ops().FinalChunks(ctx, id)
}

func (s *Service) MailFor(ctx context.Context, id string) ([]migration.MailView, error) {
	return s.ops().MailFor(ctx, id)
}

func (s *Service) Retry(ctx context.Context, id, actor string) (*cutover.Migration, error) {
	return s.ops().Retry(ctx, id, actor)
}

// The customer.
func (s *Service) Authorize(ctx context.Context, id, key string) (*cutover.Migration, error) {
	return s.customer().Authorize(ctx, id, key)
}

func (s *Service) Audit(ctx context.Context, id string) ([]cutover.AuditEvent, error) {
	return s.customer().Audit(ctx, id)
}

func (s *Service) StartUpload(ctx context.Context, m *cutover.Migration, in migration.UploadInput) (*migration.UploadPlan, error) {
	return s.customer().StartUpload(ctx, m, in)
}

func (s *Service) SignParts(ctx context.Context, m *cutover.Migration, fileID string, numbers []int) ([]migration.PartURL, error) {
	return s.customer().SignParts(ctx, m, fileID, numbers)
}

func (s *Service) RemoveUpload(ctx context.Context, m *cutover.Migration, fileID string) (*cutover.File, error) {
	return s.customer().RemoveUpload(ctx, m, fileID)
}

func (s *Service) UploadedParts(ctx context.Context, m *cutover.Migration, fileID string) ([]migration.StoredPart, error) {
	return s.customer().UploadedParts(ctx, m, fileID)
}

func (s *Service) Submit(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	return s.customer().Submit(ctx, m)
}

func (s *Service) UpdateChecklist(ctx context.Context, m *cutover.Migration, in migration.ChecklistInput) (*cutover.Migration, error) {
	return s.customer().UpdateChecklist(ctx, m, in)
}

func (s *Service) MarkReview(ctx context.Context, m *cutover.Migration, in migration.ReviewInput) (*cutover.Migration, error) {
	return s.customer().MarkReview(ctx, m, in)
}

func (s *Service) RequestSignOff(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	return s.customer().RequestSignOff(ctx, m)
}

func (s *Service) CompleteUpload(ctx context.Context, m *cutover.Migration, fileID string, parts []migration.Part) (*cutover.File, error) {
	return s.rows().CompleteUpload(ctx, m, fileID, parts)
}

func (s *Service) SetFileFormat(ctx context.Context, m *cutover.Migration, fileID string, in FileFormatInput) (*cutover.File, error) {
	return s.rows().SetFileFormat(ctx, m, fileID, in)
}

func (s *Service) Propose(ctx context.Context, m *cutover.Migration) (*Proposal, error) {
	return s.rows().Propose(ctx, m)
}

func (s *Service) SaveMapping(ctx context.Context, m *cutover.Migration, raw []byte) (*cutover.Migration, error) {
	return s.rows().SaveMapping(ctx, m, raw)
}

func (s *Service) SubmitFinal(ctx context.Context, m *cutover.Migration, in FinalInput) (*cutover.Migration, error) {
	return s.rows().SubmitFinal(ctx, m, in)
}

func (s *Service) MatchFinal(ctx context.Context, m *cutover.Migration, fileIDs []string) (*MatchView, error) {
	return s.rows().MatchFinal(ctx, m, fileIDs)
}

func (s *Service) PreflightFor(ctx context.Context, m *cutover.Migration) (*cutover.PreflightReport, error) {
	return s.rows().PreflightFor(ctx, m)
}

func (s *Service) WithdrawFinal(ctx context.Context, m *cutover.Migration) (*cutover.Migration, error) {
	return s.rows().WithdrawFinal(ctx, m)
}

func (s *Service) Workbook(ctx context.Context, m *cutover.Migration) (*workbook.Workbook, error) {
	return s.rows().Workbook(ctx, m)
}

func (s *Service) FinalReportFor(ctx context.Context, m *cutover.Migration) (*FinalReport, error) {
	return s.rows().FinalReportFor(ctx, m)
}

// The state machine's steps.
func (s *Service) Park(ctx context.Context, in migration.ParkInput) error {
	return s.steps().Park(ctx, in)
}

func (s *Service) MarkFailed(ctx context.Context, in migration.FailInput) error {
	return s.steps().MarkFailed(ctx, in)
}

func (s *Service) RecordStepFailure(ctx context.Context, id, step, message string) {
	s.steps().RecordStepFailure(ctx, id, step, message)
}

// Complete runs the Complete step as the state machine does: the step,
// then the TEST expiry a slice at a time, a slice that fails handed to
// expire-deferred (the Map's Catch, its retries spent).
func (s *Service) Complete(ctx context.Context, in migration.StepInput) error {
	c := s.completion()
	step := migration.CompleteStep{MigrationID: in.MigrationID, Round: in.Round}
	out, err := c.Run(ctx, step)
	if err != nil {
		return err
	}
	for _, p := range out.Expire {
		slice := step
		slice.Action, slice.Prefix = migration.CompleteExpire, p
		if _, err := c.Run(ctx, slice); err != nil {
			slice.Action, slice.Error = migration.CompleteExpireDeferred, &migration.StepError{Error: "States.TaskFailed", Cause: cutover.ErrorMessage(err)}
			if _, err := c.Run(ctx, slice); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) Map(ctx context.Context, in migration.StepInput) (*MapResult, error) {
	return s.mapper().Map(ctx, in)
}

// planWithoutPeople rewrites a round's plan, and run, as a plan made
// before the alias round decided who derives each person named inline:
// no alias round for an extract that only names people.
func (s *Service) planWithoutPeople(ctx context.Context, in migration.StepInput, run *ChunkRun) error {
	key := testPlanKey(in.MigrationID, in.Round)
	objs := files(s)
	var plan testPlan
	if err := json.Unmarshal([]byte(objs[key]), &plan); err != nil {
		return err
	}
	if plan.Links || run.Shuffle == nil {
		return nil
	}
	plan.Aliases, run.Shuffle.AliasesResults = false, ""
	b, err := json.Marshal(plan)
	objs[key] = string(b)
	return err
}

// TestMigrate runs a round's test migration as the state machine does:
// plan, reset every slice of TEST it names (last first: the Map's
// children finish in any order), then every chunk of the manifest (one
// after another here; the Distributed Map runs them at once), a chunk
// whose retries are spent recorded failed, then finish.
func (s *Service) TestMigrate(ctx context.Context, in migration.StepInput) (*cutover.Counts, error) {
	step := TestStep{MigrationID: in.MigrationID, Round: in.Round, LinksRound: !s.OldDefinition}
	if err := s.sized(ctx, in.MigrationID); err != nil {
		return nil, err
	}
	plan, err := s.testStep(ctx, withAction(step, TestPlan))
	for err == nil && plan.Planning != nil { // TestPlanParts, then TestPlan again
		err = s.planParts(ctx, plan.Planning, func(p PlanPart) error {
			_, err := s.testStep(ctx, TestStep{Action: PlanPartAction, MigrationID: p.MigrationID, Round: p.Round, Part: &p})
			return err
		})
		if err == nil {
			plan, err = s.testStep(ctx, withAction(step, TestPlan))
		}
	}
	if err != nil {
		return nil, err
	}
	if len(plan.Reset) == 0 {
		return nil, errors.New("the plan names no slice of TEST to reset")
	}
	if s.PlannedWithoutPeople {
		if err := s.planWithoutPeople(ctx, in, plan.Run); err != nil {
			return nil, err
		}
	}
	for _, p := range slices.Backward(plan.Reset) {
		reset := withAction(step, TestReset)
		reset.Prefix = p
		if _, err := s.testStep(ctx, reset); err != nil {
			return nil, err
		}
	}
	items, err := s.manifest(ctx, plan.Run.Manifest)
	if err != nil {
		return nil, err
	}
	if plan.Run.Merges != nil { // the second Map, after the first
		merges, err := s.manifest(ctx, plan.Run.Merges.Manifest)
		if err != nil {
			return nil, err
		}
		slices.Reverse(merges) // children finish in any order
		items = append(items, merges...)
	}
	if err := s.shuffle(ctx, plan.Run, func(action string, it ChunkItem, caught *migration.StepError) error {
		_, err := s.testStep(ctx, TestStep{Action: action, MigrationID: it.MigrationID, Round: it.Round, Index: it.Index, Error: caught})
		return err
	}); err != nil {
		return nil, err
	}
	for _, it := range items {
		c := TestStep{MigrationID: it.MigrationID, Round: it.Round, Index: it.Index}
		if _, err := s.testStep(ctx, withAction(c, TestChunk)); err != nil {
			failed := withAction(c, TestChunkFailed)
			failed.Error = &migration.StepError{Error: "States.TaskFailed", Cause: cutover.ErrorMessage(err)}
			if _, err := s.testStep(ctx, failed); err != nil {
				return nil, err
			}
		}
	}
	// The test snapshot merged in key ranges, their items last first.
	cmp, err := s.testStep(ctx, withAction(step, TestComparePlan))
	if err != nil {
		return nil, err
	}
	if cmp.Compare.Partitions > 0 {
		ranges, err := s.manifest(ctx, cmp.Compare.Manifest)
		if err != nil {
			return nil, err
		}
		for _, it := range slices.Backward(ranges) {
			if _, err := s.testStep(ctx, TestStep{Action: TestComparePartition, MigrationID: it.MigrationID, Round: it.Round, Index: it.Index}); err != nil {
				return nil, err
			}
		}
	}
	out, err := s.testStep(ctx, withAction(step, TestFinish))
	if err != nil {
		return nil, err
	}
	return out.Counts, nil
}

// shuffle runs a plan's id shuffle as the state machine's Maps do, when
// it has one: step(keys) for every chunk, then step(resolve) for every
// partition, then step(aliases) for every partition when the shuffle has
// an alias round and step(links) when it has a links round, each Map's
// items taken last first (children finish in any order).
func (s *Service) shuffle(ctx context.Context, run *ChunkRun, step func(action string, it ChunkItem, caught *migration.StepError) error) error {
	if run == nil || run.Shuffle == nil {
		return nil
	}
	maps := []struct{ action, manifest string }{{TestKeys, run.Manifest}, {TestResolve, run.Shuffle.Manifest}}
	if run.Shuffle.AliasesResults != "" {
		maps = append(maps, struct{ action, manifest string }{TestAliases, run.Shuffle.Manifest})
	}
	if run.Shuffle.LinksResults != "" {
		maps = append(maps, struct{ action, manifest string }{TestLinks, run.Shuffle.Manifest})
	}
	for _, m := range maps {
		items, err := s.manifest(ctx, m.manifest)
		if err != nil {
			return err
		}
		for i := len(items) - 1; i >= 0; i-- {
			err := step(m.action, items[i], nil)
			if err != nil && m.action == TestKeys {
				// The child's Catch: record why, then the Map fails.
				caught := &migration.StepError{Error: "TransientError", Cause: fmt.Sprintf(`{"errorMessage":%q}`, cutover.ErrorMessage(err))}
				if ferr := step(TestKeysFailed, items[i], caught); ferr != nil {
					return ferr
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func withAction(in TestStep, action string) TestStep {
	in.Action = action
	return in
}

// manifest reads a chunk manifest as the Distributed Map's ItemReader
// does: one JSON object per line.
func (s *Service) manifest(ctx context.Context, key string) ([]ChunkItem, error) {
	rc, err := s.files().Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var out []ChunkItem
	dec := json.NewDecoder(rc)
	for {
		var it ChunkItem
		if err := dec.Decode(&it); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
}

// sized gives each complete file of a migration whose size was never
// set its stored object's size, as completing its upload does (the tests
// store files without one), so that planning sees large files as large.
func (s *Service) sized(ctx context.Context, id string) error {
	m, err := s.Store.GetMigration(ctx, id)
	if err != nil {
		return err
	}
	objs, ok := s.Files.(objects)
	if !ok {
		return nil
	}
	changed := false
	for i, f := range m.Files {
		if body, ok := objs[f.Key]; ok && f.Complete && f.Size == 0 {
			m.Files[i].Size, changed = int64(len(body)), true
		}
	}
	if !changed {
		return nil
	}
	return s.Store.SaveMigration(ctx, m)
}

// planParts runs a planning Map's parts as the state machine does, last
// first (children finish in any order).
func (s *Service) planParts(ctx context.Context, run *PlanningRun, step func(PlanPart) error) error {
	rc, err := s.files().Open(ctx, run.Manifest)
	if err != nil {
		return err
	}
	defer rc.Close()
	var parts []PlanPart
	for dec := json.NewDecoder(rc); ; {
		var p PlanPart
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	if len(parts) != run.Parts {
		return fmt.Errorf("the planning manifest holds %d parts; the step said %d", len(parts), run.Parts)
	}
	for _, p := range slices.Backward(parts) {
		if err := step(p); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) testStep(ctx context.Context, in TestStep) (*TestOutput, error) {
	return s.testRun().Test(ctx, in)
}

// Final runs a final-migration action; the pre-flight's runs whole, as
// the state machine runs it (preflight). Its planning steps say it runs
// the links round, as the state machine's do (unless OldDefinition).
func (s *Service) Final(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	in.LinksRound = !s.OldDefinition
	if in.Action == FinalPreflight {
		return s.preflight(ctx, in)
	}
	return s.final().Final(ctx, in)
}

func (s *Service) PlanFinal(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	in.LinksRound = !s.OldDefinition
	return s.final().PlanFinal(ctx, in)
}

func (s *Service) MigrateChunk(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	return s.final().MigrateChunk(ctx, in)
}

func (s *Service) FinishFinal(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	return s.final().FinishFinal(ctx, in)
}

func (s *Service) Preflight(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	in.LinksRound = !s.OldDefinition
	return s.preflight(ctx, in)
}

// preflight runs a pre-flight as the state machine does: its first step,
// then (when it planned a dry run: a run with chunks) the final's Maps over the dry run's
// manifests with the phase in every item, then FinishPreflight.
func (s *Service) preflight(ctx context.Context, in FinalStep) (*FinalOutput, error) {
	f := s.final()
	if err := s.sized(ctx, in.MigrationID); err != nil {
		return nil, err
	}
	out, err := f.Preflight(ctx, in)
	for err == nil && out.Planning != nil { // PreflightPlanParts, then the pre-flight again
		err = s.planParts(ctx, out.Planning, func(p PlanPart) error {
			_, err := f.Final(ctx, FinalStep{Action: PlanPartAction, MigrationID: p.MigrationID, Round: p.Round, Part: &p})
			return err
		})
		if err == nil {
			out, err = f.Preflight(ctx, in)
		}
	}
	if err != nil || out.Run.Chunks == 0 {
		return out, err
	}
	if err := s.finalChunks(ctx, out.Run); err != nil {
		return nil, err
	}
	return f.Final(ctx, FinalStep{Action: FinalPreflightFinish, MigrationID: in.MigrationID, Round: in.Round, Phase: out.Run.Phase})
}

// finalChunks runs a final plan's (or a pre-flight's) Maps as the state
// machine does: the id shuffle, then every chunk of the manifest, then
// every merge partition, each chunk tried three times and then recorded
// failed, as its child's Catch does.
func (s *Service) finalChunks(ctx context.Context, run *ChunkRun) error {
	f := s.final()
	step := func(action string, it ChunkItem, caught *migration.StepError) error {
		_, err := f.Final(ctx, FinalStep{Action: action, MigrationID: it.MigrationID, Round: it.Round, Index: it.Index, Phase: it.Phase, Error: caught})
		return err
	}
	if err := s.shuffle(ctx, run, step); err != nil {
		return err
	}
	items, err := s.manifest(ctx, run.Manifest)
	if err != nil {
		return err
	}
	if run.Merges != nil { // the second Map, after the first
		merges, err := s.manifest(ctx, run.Merges.Manifest)
		if err != nil {
			return err
		}
		items = append(items, merges...)
	}
	for _, it := range items {
		for attempt := 0; ; attempt++ {
			err := step(FinalChunk, it, nil)
			if err == nil {
				break
			}
			if attempt == 2 {
				if err := step(FinalChunkFailed, it, &migration.StepError{Error: "TransientError", Cause: `{"errorMessage":"gave up"}`}); err != nil {
					return err
				}
				break
			}
		}
	}
	return s.compare(ctx, run, items[0])
}

// compare runs the comparison in key ranges as the state machine does
// after the chunks: compare-plan with the run, then every range of its
// manifest (none when a chunk is not done).
func (s *Service) compare(ctx context.Context, run *ChunkRun, first ChunkItem) error {
	f := s.final()
	out, err := f.Final(ctx, FinalStep{Action: FinalComparePlan, MigrationID: first.MigrationID, Round: first.Round, Run: run})
	if err != nil || out.Compare.Partitions == 0 {
		return err
	}
	items, err := s.manifest(ctx, out.Compare.Manifest)
	if err != nil {
		return err
	}
	for _, it := range items {
		if _, err := f.Final(ctx, FinalStep{Action: FinalComparePartition, MigrationID: it.MigrationID, Round: it.Round, Index: it.Index, Phase: it.Phase}); err != nil {
			return err
		}
	}
	return nil
}

// Reconciliation.
func (s *Service) Reconcile(ctx context.Context, ev migration.ExecutionEvent) (*migration.SweepResult, error) {
	return s.reconciler().Reconcile(ctx, ev)
}

func (s *Service) Sweep(ctx context.Context) (*migration.SweepResult, error) {
	return s.reconciler().Sweep(ctx)
}

func (s *Service) RetryMail(ctx context.Context) (int, error) { return s.reconciler().RetryMail(ctx) }

// unwired is every port a test did not wire: each call answers EINTERNAL.
type unwired struct{}

var errUnwired = cutover.Errorf(cutover.EINTERNAL, "not wired in this test")

func (unwired) Start(context.Context, string, any) error  { return errUnwired }
func (unwired) Resume(context.Context, string, any) error { return errUnwired }
func (unwired) Execution(context.Context, string) (*cutover.Execution, error) {
	return nil, cutover.Errorf(cutover.ENOTFOUND, "no executions in this test")
}
func (unwired) ExecutionStatus(context.Context, string) (string, error) { return "", errUnwired }
func (unwired) Send(context.Context, string, string, string) error      { return errUnwired }
func (unwired) AddMail(context.Context, cutover.Mail) (cutover.Mail, bool, error) {
	return cutover.Mail{}, false, errUnwired
}
func (unwired) UpdateMail(context.Context, cutover.Mail, int) error { return errUnwired }
func (unwired) ListMail(context.Context, string) ([]cutover.Mail, error) {
	return nil, errUnwired
}

func (unwired) DueMail(context.Context, time.Time, int) ([]cutover.Mail, error) {
	return nil, errUnwired
}
func (unwired) Begin(context.Context, string, string) (string, error) { return "", errUnwired }
func (unwired) PresignParts(context.Context, string, string, []int, time.Duration) ([]string, error) {
	return nil, errUnwired
}

func (unwired) Complete(context.Context, string, string, []migration.Part) (int64, error) {
	return 0, errUnwired
}
func (unwired) Remove(context.Context, string, string) error { return errUnwired }
func (unwired) ListParts(context.Context, string, string) ([]migration.StoredPart, error) {
	return nil, errUnwired
}
func (unwired) PlanChunks(context.Context, string, []cutover.Chunk) error { return errUnwired }
func (unwired) GetChunk(context.Context, string, int) (*cutover.Chunk, error) {
	return nil, errUnwired
}
func (unwired) SaveChunk(context.Context, string, *cutover.Chunk) error { return errUnwired }
func (unwired) ListChunks(context.Context, string) ([]cutover.Chunk, error) {
	return nil, errUnwired
}
func (unwired) Open(context.Context, string) (io.ReadCloser, error) { return nil, errUnwired }
func (unwired) OpenRange(context.Context, string, int64, int64) (io.ReadCloser, error) {
	return nil, errUnwired
}
func (unwired) Put(context.Context, string, string, []byte) error { return errUnwired }
func (unwired) Compose(context.Context, string, string, []cutover.Piece) error {
	return errUnwired
}

func (unwired) Stream(context.Context, string, string, func(io.Writer) error) error {
	return errUnwired
}

func (unwired) PresignGet(context.Context, string, time.Duration) (string, error) {
	return "", errUnwired
}

// nowhere is the mailer of a test that wired none: every mail is "sent".
type nowhere struct{}

func (nowhere) Send(context.Context, string, string, string) error { return nil }

// signedLinks is the download links of a test that wired none: a link
// names the object it opens.
type signedLinks struct{}

func (signedLinks) PresignGet(_ context.Context, key string, _ time.Duration) (string, error) {
	return "https://download.test/" + key, nil
}

// unwiredTest is the TEST environment a test did not wire; unwiredSink
// the sink of a TEST or LIVE environment it did not wire.
type (
	unwiredTest struct{}
	unwiredSink struct{}
)

func (unwiredTest) ResetSegment(context.Context, string, []string, string) error {
	return errUnwired
}
func (unwiredTest) Writer(string) cutover.Sink { return unwiredSink{} }
func (unwiredTest) ExpireSegment(context.Context, string, []string, string, time.Time) error {
	return errUnwired
}

// dest is the destination the engine writes to: Dest, or one fake over
// Test's and Live's sinks kept on s, so that a step's read-back sees what
// an earlier call (another chunk) delivered.
func (s *Service) dest() cutover.Destination {
	if s.Dest != nil {
		return s.Dest
	}
	if s.fake == nil {
		s.fake = &sinkDestination{svc: s, held: map[cutover.Target]accepted{}}
	}
	return s.fake
}

func (unwiredSink) Write(context.Context, []cutover.Record) ([]cutover.Refusal, error) {
	return nil, errUnwired
}

func (unwired) ListEvents(context.Context, string) ([]cutover.LifecycleEvent, error) {
	return nil, errUnwired
}

package engine

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/chunk"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/schema"
	"github.com/cutover/cutover/internal/tabular"
)

// The test and the final migration divide their extract into chunks with
// one planner, so the test migration rehearses the final one exactly: the
// same cuts at record boundaries, the same whole-file reading of a file
// that cannot be cut, the same single chunk for a mapping that needs
// every record at once (people named inline who may be records merged
// across source ids), the same merge partitions for a mapping that merges
// records by dedupe key, and the same id shuffle (with its alias round for
// references to records merged across source ids and for people named
// inline).

// extractInput is what planExtract plans.
type extractInput struct {
	spec       *mapspec.Spec
	choose     chooser // the mapping entry of each table
	files      []cutover.File
	chunkBytes int64  // how much of a file one chunk reads; 0 means DefaultChunkBytes
	whole      string // the name of the chunk of an extract read as one
	mergeRows  int    // how many records a merge partition is planned for; 0 means DefaultMergeRows
	linksRound bool   // the state machine runs the id shuffle's links round (TestStep.LinksRound)
	wholeRows  int    // how many rows an extract planned as one chunk without it may have; 0 means MaxWholeRows
	// used, when set, is filled by planFile and planHead: the mapping
	// entries the extract's tables chose.
	used map[string]bool
	// infer, when set, makes the planner infer each mapping entry's phone
	// region and date formats from its table's first rows, as the
	// pipeline does (mapspec.InferSample), so every chunk reads the file
	// the same way whatever rows it holds.
	infer *inferAt
	// parts, when set, plans a file larger than two chunks in parts
	// (planscan.go), keeping the plan under this prefix; item names the
	// migration (and pre-flight phase) in the parts, and concurrency is
	// how many run at once.
	parts       string
	item        PlanPart
	concurrency int
}

// inferAt is what inference needs besides the rows: the tenant, the
// migration's market, and "today" of the row rules.
type inferAt struct {
	tenant, market string
	now            time.Time
}

// extractPlan is a planned extract.
type extractPlan struct {
	chunks []cutover.Chunk // the chunks that read, then the merge partitions
	rows   int
	merges int // merge partitions (cutover.Chunk.Merge)
	// aliases says the id shuffle runs its alias round (idalias.go): a
	// reference names an entity whose records merge across source ids,
	// or a row names people inline (idnaming.go); links, its links round
	// after it (idlinks.go): a person named inline may be one of that
	// entity's records.
	aliases, links bool
	// inferred is by mapping entry name (an entry read from several
	// tables keeps the first's), when extractInput.infer was set.
	inferred map[string]*mapspec.Inference
	// now is the extractInput.infer's now the inference read with, when
	// it was planned in parts (the parts' first step's).
	now time.Time
	// entries are the mapping entries the extract's tables chose; nil
	// when not known (a plan in parts begun before they were kept).
	entries []string
}

// planExtract reads every file to its end (a file that cannot be read or
// does not fit its mapping entry fails here, before a record is written),
// counts its rows and plans its chunks. With in.parts it plans a large
// file in parts (planscan.go): it then answers the parts the state machine
// runs before calling it again, and no plan, until every file is planned.
//
// Errors: EINVALID when a file cannot be read or does not fit (the
// message names the file and line); ENOTFOUND or EUNAVAILABLE from
// storage.
func (s *base) planExtract(ctx context.Context, in extractInput) (*extractPlan, *PlanningRun, error) {
	target := in.chunkBytes
	if target <= 0 {
		target = DefaultChunkBytes
	}
	if in.parts != "" {
		return s.planInParts(ctx, in, target)
	}
	out := &extractPlan{inferred: map[string]*mapspec.Inference{}}
	in.used = map[string]bool{}
	for _, f := range in.files {
		cs, n, err := s.planFile(ctx, in, f, target, out.inferred)
		if err != nil {
			return nil, nil, err
		}
		out.chunks, out.rows = append(out.chunks, cs...), out.rows+n
	}
	out.entries = slices.Sorted(maps.Keys(in.used))
	if err := finishPlan(in, out); err != nil {
		return nil, nil, err
	}
	return out, nil, nil
}

// MaxWholeRows bounds an extract that needs the links round, planned for
// a state machine without it (extractInput.linksRound): it is one chunk,
// whose step merges every record in memory (273-316 MB of heap at 50,000
// rows of contacts merged across source ids and tenancies naming them,
// 558-625 MB at 100,000, measured 2026-12-05; the collector lets a
// process grow to about twice what is live), so more rows would outgrow
// the test migration's 1 GB Lambda. Planning refuses a larger extract
// with what to change, before a record is written, as it did before the
// links round.
const MaxWholeRows = 50_000

// finishPlan makes out's chunks, every file's, the extract's: merge
// partitions after them for a mapping that merges records by dedupe key;
// and numbers them. An extract that needs the links round, planned for a
// state machine without it (!in.linksRound), is one chunk.
//
// Errors: EINVALID for such an extract of more than in.wholeRows rows
// (MaxWholeRows).
func finishPlan(in extractInput, out *extractPlan) error {
	if sch := schema.Default(); in.spec.HoldsRecords(sch) {
		merges, aliases, links := chunking(in.spec, sch, out.entries)
		whole := links && !in.linksRound
		if limit := cmp.Or(in.wholeRows, MaxWholeRows); whole && out.rows > limit {
			return tooManyForOneStep(onlyEntries(in.spec, out.entries), sch, out.rows, limit)
		}
		perPartition := in.mergeRows
		if perPartition <= 0 {
			perPartition = DefaultMergeRows
		}
		// Dedupe keys: the chunks spill their records, and merge
		// partitions merge them (pass.Merge). So does one chunk of more
		// records than a partition holds: merged in the chunk, they
		// would all be in memory at once (about 4.5 KB each: a 32 MiB
		// chunk of contacts is 1.3 GB).
		merges = merges && !whole && (len(out.chunks) > 1 || out.rows > perPartition)
		if whole || len(out.chunks) < 2 && !merges {
			out.chunks = []cutover.Chunk{{FileName: in.whole}}
		} else if merges {
			out.merges = min(max((out.rows+perPartition-1)/perPartition, 1), maxMergePartitions)
			for p := range out.merges {
				out.chunks = append(out.chunks, cutover.Chunk{FileName: fmt.Sprintf("merging records, partition %d of %d", p+1, out.merges), Merge: true})
			}
		}
		people := len(mapspec.InlineEntities(onlyEntries(in.spec, out.entries), sch)) > 0
		out.aliases = (aliases || links || people) && out.shuffles() // it decides who derives each person named inline (idnaming.go)
		out.links = links && out.shuffles()
	}
	for i := range out.chunks {
		out.chunks[i].Index, out.chunks[i].Status = i, cutover.ChunkPending
	}
	return nil
}

// tooManyForOneStep is the refusal of an extract of rows rows, over
// limit, whose mapping (spec) names people inline who may be records of
// an entity that merges across source ids, planned for a state machine
// without the links round: it names the entities (not the mapping's
// entries, which a test migration names by file id), what to change
// first, since a pre-flight clips its reason to cutover.MaxReasonBytes,
// then the counts.
func tooManyForOneStep(spec *mapspec.Spec, sch *schema.Schema, rows, limit int) error {
	naming, merged := mapspec.InlinedAcross(spec, sch)
	return cutover.Errorf(cutover.EINVALID,
		"Turn mergeDifferentIds off for %s, or map the people %s rows name inline as a column: this migration began before they were linked in parts, so it takes at most %s rows in one step; this extract has %s.",
		strings.Join(merged, " and "), strings.Join(naming, " and "), grouped(limit), grouped(rows))
}

// grouped is n with its thousands separated by commas.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// chunking says how the chunks of an extract mapped with spec, which
// holds records, are put together: with merge partitions after them
// (dedupe keys), whether the id shuffle runs its alias round (a field
// names an entity whose records merge across source ids: a reference to
// the source id of a record merged away means the record it merged into,
// which the alias round finds over every chunk; idalias.go), and whether
// it runs its links round after it (a person named inline may be one of
// such an entity's records: they are linked by what merging left in the
// records; idlinks.go). Other references are resolved through the id
// shuffle (pass.Elsewhere), and so are other people named inline, who
// are references too (inlinelink.go).
//
// Only the entries the extract's tables chose (used; nil: every entry)
// can name people inline: an entry no file chose names nobody (though
// its mergeDifferentIds still counts).
func chunking(spec *mapspec.Spec, sch *schema.Schema, used []string) (merges, aliases, links bool) {
	fields, _ := mapspec.MergedAcrossRefs(spec, sch)
	_, inline := mapspec.MergedAcrossRefs(onlyEntries(spec, used), sch)
	for _, f := range spec.Files {
		merges = merges || len(f.Dedupe) > 0
	}
	return merges, fields, inline
}

// onlyEntries is spec with the people named inline of the entries in
// names only (the others' Inline cleared), or spec itself when names is
// empty (not known). Every entry stays, with whatever else it says: an
// entry no file chose names nobody, but its mergeDifferentIds still
// merges its entity's records (mapspec.NewMergerFor reads the whole
// spec).
func onlyEntries(spec *mapspec.Spec, names []string) *mapspec.Spec {
	if len(names) == 0 {
		return spec
	}
	out := *spec
	out.Files = make([]mapspec.FileSpec, len(spec.Files))
	for i, f := range spec.Files {
		if !slices.Contains(names, f.Name) {
			f.Inline = nil
		}
		out.Files[i] = f
	}
	return &out
}

// reading is how many of plan's chunks read the extract: the ones
// before its merge partitions.
func (p *extractPlan) reading() int { return len(p.chunks) - p.merges }

// shuffles reports whether the plan runs the id shuffle (idshuffle.go)
// before its chunks: when several chunks read, and when records are
// spilled to merge partitions even from one chunk (a file that cannot be
// cut, with more records than a partition holds), since a chunk that
// spills resolves its references and links the people it names inline
// only with the shuffle's resolution (pass.Pass.Spill).
func (p *extractPlan) shuffles() bool { return p.reading() > 1 || p.merges > 0 }

// planFile validates one file and divides it, and counts its rows. A file
// that cannot be split by bytes (XLSX, BLM, UTF-16, classic Mac line ends)
// is one chunk.
func (s *base) planFile(ctx context.Context, in extractInput, f cutover.File, target int64, inferred map[string]*mapspec.Inference) ([]cutover.Chunk, int, error) {
	rc, err := s.files.Open(ctx, f.Key)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	scan := chunk.NewScanner(target)
	tables, err := tabular.Open(io.TeeReader(rc, scan), f.Name, pass.ReadOptions(f, tabular.Options{MaxXLSX: s.ReadLimits}))
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		for _, t := range tables {
			_ = t.Close()
		}
	}()
	scan.SetFormat(tables[0].Format())
	rows := 0
	for _, t := range tables {
		fs, err := in.choose(in.spec, pass.TableName(f, t), t.Header())
		if err != nil {
			return nil, 0, pass.Named(f.Name, err)
		}
		if in.used != nil {
			in.used[fs.Name] = true
		}
		var sample [][]string
		for {
			r, err := t.Next()
			if err == io.EOF {
				break
			} else if err != nil {
				return nil, 0, err // the reader's messages name the file and line
			}
			rows++
			if in.infer != nil && len(sample) < mapspec.InferSample {
				sample = append(sample, append([]string(nil), r.Fields...))
			}
		}
		if err := inferFor(in, f, fs, t.Header(), sample, inferred); err != nil {
			return nil, 0, err
		}
	}
	whole := []cutover.Chunk{{FileID: f.ID, FileName: f.Name}}
	plan, err := scan.Plan()
	if err != nil || len(tables) != 1 || plan.HeaderEnd == 0 || len(plan.Chunks) == 0 {
		return whole, rows, nil // not splittable: read it whole
	}
	format := tables[0].Format() // after the last row: the whole file's encoding
	out := make([]cutover.Chunk, 0, len(plan.Chunks))
	for _, r := range plan.Chunks {
		o := plan.Options(r, format, tabular.Options{})
		out = append(out, cutover.Chunk{
			FileID: f.ID, FileName: f.Name, Start: r.Start, End: r.End, HeaderEnd: plan.HeaderEnd,
			LineOffset: o.LineOffset, Encoding: o.Encoding, Delimiter: string(o.Delimiter),
		})
	}
	return out, rows, nil
}

// inferFor infers entry fs's phone region and date formats from a table's
// first rows, when in.infer asks and no earlier table of the entry did.
//
// Errors: EINVALID naming f when the entry does not compile.
func inferFor(in extractInput, f cutover.File, fs mapspec.FileSpec, header []string, sample [][]string, inferred map[string]*mapspec.Inference) error {
	if in.infer == nil {
		return nil
	}
	if _, done := inferred[fs.Name]; done {
		return nil
	}
	m, err := mapspec.Compile(fs, schema.Default(), header, in.infer.tenant, in.infer.now)
	if err != nil {
		return pass.Named(f.Name, err)
	}
	inferred[fs.Name] = m.InferFrom(sample, in.infer.market, nil)
	return nil
}

package mapspec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapdoc"
	"github.com/cutover/cutover/internal/schema"
)

// Outcome is what became of one row: exactly one of a Record (migrated,
// perhaps with Warnings), Errors (rejected), or SkipRule (skipped by that
// named rule).
type Outcome struct {
	Record    *Record
	Errors    []Issue
	Warnings  []Issue
	SkipRule  string
	DedupeKey string    // "" when the row has no dedupe key (or none is configured)
	Rules     []string  // derive rules that changed the record, e.g. "applicant-expiry"
	Derived   []*Record // records of people the row names inline (inline.go); not rows read
	// Combined accounts, per field several columns fill, for the values
	// of a row where more than one had a value or one was not migrated
	// (combine.go), so nothing a customer mapped vanishes unreported.
	Combined []CombinedValue
}

// Outcome kinds, for accounting.
const (
	Migrated = "migrated"
	Rejected = "rejected"
	Skipped  = "skipped"
)

// Kind says whether the row was migrated, rejected or skipped.
func (o Outcome) Kind() string {
	switch {
	case o.SkipRule != "":
		return Skipped
	case len(o.Errors) > 0:
		return Rejected
	}
	return Migrated
}

// work is the per-row state the steps see.
type work struct {
	field, column string
	warns         []Issue
	today, nowRFC string
	region        string         // the row's phone region: its country column's, else the file's, else the market ("" unknown)
	market        string         // the migration's market: national numbers there are not a warning
	perItem       bool           // a list field that is not strict: a bad item is left out on its own
	badItems      []InvalidValue // the items left out so far, for the field being mapped
	phones        phoneCache     // the phone library's answers so far (phone_parse.go)
	issueSlab     []Issue        // rows' first warnings are cut from it, as values are from valSlab
}

// warnRoom is the room a row's warnings get from the slab: most rows that
// warn at all warn once or twice; a third appends beyond it.
const warnRoom = 2

func (w *work) warn(value, reason string) {
	if w.warns == nil {
		if len(w.issueSlab) < warnRoom {
			w.issueSlab = make([]Issue, warnRoom*slabRows)
		}
		w.warns, w.issueSlab = w.issueSlab[:0:warnRoom], w.issueSlab[warnRoom:]
	}
	w.warns = append(w.warns, Issue{Field: w.field, Column: w.column, Value: value, Reason: reason})
}

type cond struct {
	col   int
	set   map[string]bool
	neg   bool // notIn
	empty *bool
}

func (c *cond) match(fields []string) bool {
	v := ""
	if c.col < len(fields) {
		v = strings.TrimSpace(fields[c.col])
	}
	if c.empty != nil {
		return (v == "") == *c.empty
	}
	in := c.set[v] || c.set[strings.ToLower(v)]
	return in != c.neg
}

type compiledField struct {
	fd       *schema.Field
	cols     []int
	constant *string
	when     *cond
	steps    []stepFn
	label    string    // column label for issues
	currency string    // of a money field
	strict   bool      // an unreadable value rejects the row (required fields always do)
	date     *dateConv // the date conversion (last step) of a date field, for Infer to tune
	group    int       // index into Mapper.groups when several mappings fill the field, else -1
}

type compiledSkip struct {
	name   string
	always bool
	when   *cond
}

// Mapper applies one file's mapping to its rows. Build it with Compile. A
// Mapper keeps scratch space between rows, so it is not safe for concurrent
// use: give each goroutine its own (Clone).
type Mapper struct {
	fs     FileSpec
	ent    *schema.Entity
	tenant string
	header []string
	idCols []int
	// idFallback, idContent and fieldNames: see compileSourceID.
	idFallback []int
	idContent  bool
	fieldNames []string
	fields     []compiledField
	skips      []compiledSkip
	dedupe     []int
	expiry     bool
	tenancy    bool
	unused     []string
	dropped    []string
	today      string
	nowRFC     string
	scratch    []string
	w          work
	required   []*schema.Field
	anyOf      []int
	inline     []compiledInline
	groups     []compiledGroup // fields several mappings fill (combine.go)
	valSlab    []Value         // rows' values are cut from slabs: one allocation per slabRows rows, not one per row
	recSlab    []Record        // likewise the records
	strSlab    []string        // and the items of list values

	// link is LinkWith's; nil, LinkInline links the derived people after
	// the pass.
	link func(entity, sourceID string) (string, bool)

	countryCols []int      // columns naming the row's country, for its phone region
	fileRegion  string     // the file's inferred phone region (or the market), set by Infer
	market      string     // the migration's market, set by Infer
	inferred    *Inference // what Infer found, nil before
}

// slabRows is how many rows' values one slab holds.
const slabRows = 256

// newValues returns a zeroed value slice for one row. Records keep their
// slab alive; a rejected row's slice is simply not used again.
func (m *Mapper) newValues() []Value {
	n := len(m.ent.Fields)
	if len(m.valSlab) < n {
		m.valSlab = make([]Value, n*slabRows)
	}
	v := m.valSlab[:n:n]
	m.valSlab = m.valSlab[n:]
	return v
}

// newStrings returns room for n list items (length 0, capacity n, so an
// append past it copies rather than writing into the next row's items).
func (m *Mapper) newStrings(n int) []string {
	if cap(m.strSlab) < n {
		m.strSlab = make([]string, max(n, 4*slabRows))
	}
	s := m.strSlab[:0:n]
	m.strSlab = m.strSlab[n:]
	return s
}

func (m *Mapper) newRecord() *Record {
	if len(m.recSlab) == 0 {
		m.recSlab = make([]Record, slabRows)
	}
	r := &m.recSlab[0]
	m.recSlab = m.recSlab[1:]
	return r
}

// Compile prepares fs for a file with the given header (column names,
// matched ignoring case and surrounding spaces). tenantID seeds the record
// ids; now fixes "today" for row rules and future-date warnings.
//
// Errors: EINVALID when fs does not fit sch (as ParseWith) or the file: a
// column the spec needs is missing (the message names it and lists the
// header), or the header repeats a column the spec reads.
func Compile(fs FileSpec, sch *schema.Schema, header []string, tenantID string, now time.Time) (*Mapper, error) {
	if err := validateFile(&fs, "file "+strconv.Quote(fs.Name), sch); err != nil {
		return nil, err
	}
	ent, _ := sch.Entity(fs.Entity)
	loc := time.UTC
	if tz := fs.EffectiveDefaults().Timezone; tz != "" {
		loc, _ = time.LoadLocation(tz)
	}
	m := &Mapper{fs: fs, ent: ent, tenant: tenantID, header: append([]string(nil), header...)}
	m.today = string(appendDate(nil, now.In(loc).Year(), int(now.In(loc).Month()), now.In(loc).Day()))
	m.nowRFC = now.UTC().Format(time.RFC3339)
	idx := map[string]int{}
	dups := map[string]bool{}
	for i, h := range header {
		k := normCol(h)
		if _, ok := idx[k]; ok {
			dups[k] = true
			continue
		}
		idx[k] = i
	}
	used := make([]bool, len(header))
	col := func(name string) (int, error) {
		i, k, ok := lookupColumn(&fs, idx, name)
		if !ok {
			return 0, cutover.Errorf(cutover.EINVALID, "file %q: column %q is not in the file (its columns: %s)", fs.Name, name, headerList(header))
		}
		if dups[k] {
			return 0, cutover.Errorf(cutover.EINVALID, "file %q: column %q appears more than once in the header", fs.Name, name)
		}
		used[i] = true
		return i, nil
	}
	compileCond := func(c *Condition) (*cond, error) {
		if c == nil {
			return nil, nil
		}
		i, err := col(c.Column)
		if err != nil {
			return nil, err
		}
		cc := &cond{col: i, empty: c.Empty}
		vals := c.In
		if len(c.NotIn) > 0 {
			vals, cc.neg = c.NotIn, true
		}
		if len(vals) > 0 {
			cc.set = map[string]bool{}
			for _, v := range vals {
				cc.set[strings.ToLower(strings.TrimSpace(v))] = true
			}
		}
		return cc, nil
	}
	if err := m.compileSourceID(fs, col); err != nil {
		return nil, err
	}
	for _, r := range fs.Skip {
		c, err := compileCond(r.When)
		if err != nil {
			return nil, err
		}
		m.skips = append(m.skips, compiledSkip{name: r.Name, always: r.Always, when: c})
	}
	mapped := map[string]bool{}
	for i, fm := range fs.Fields {
		fd, _ := ent.Field(fm.Target)
		cf := compiledField{fd: fd, constant: fm.Constant, strict: fm.Strict || fd.Required}
		srcs := fm.SourceColumns()
		var missing []string
		for _, c := range srcs {
			if _, _, ok := lookupColumn(&fs, idx, c); !ok {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 && fm.Optional {
			if len(missing) == len(srcs) {
				m.dropped = append(m.dropped, fm.Target)
				continue
			}
			srcs = without(srcs, missing)
		}
		for _, c := range srcs {
			j, err := col(c)
			if err != nil {
				return nil, err
			}
			cf.cols = append(cf.cols, j)
		}
		cf.label = strings.Join(srcs, " + ")
		if fm.Constant != nil {
			cf.label = "(constant)"
		}
		wc, err := compileCond(fm.When)
		if err != nil {
			if fm.Optional {
				m.dropped = append(m.dropped, fm.Target)
				continue
			}
			return nil, err
		}
		cf.when = wc
		steps, err := compileSteps(fmt.Sprintf("file %q fields[%d]", fs.Name, i), fm, fd, fs.EffectiveDefaults())
		if err != nil {
			return nil, err
		}
		cf.steps = steps
		if t := fd.ItemType(); t == schema.Date || t == schema.DateTime {
			last := Step{Op: "date"}
			if n := len(fm.Steps); n > 0 && fm.Steps[n-1].Op == "date" {
				last = fm.Steps[n-1]
			}
			dc, err := newDateConv("", last, fd, fs.EffectiveDefaults())
			if err != nil {
				return nil, err
			}
			cf.date = dc
			cf.steps[len(cf.steps)-1] = each(dc.convert)
		}
		if fd.ItemType() == schema.Money {
			cf.currency = moneyCurrencyOf(fm, fs.EffectiveDefaults())
		}
		m.fields = append(m.fields, cf)
		mapped[fd.Name] = true
	}
	inl, inlCols, err := compileInline(fs, ent, sch, header)
	if err != nil {
		return nil, err
	}
	for _, i := range inlCols {
		used[i] = true
	}
	for _, ci := range inl {
		mapped[ci.target.Name] = true
	}
	m.inline = inl
	for _, fd := range ent.Fields {
		if fd.Required {
			m.required = append(m.required, fd)
			if !mapped[fd.Name] {
				return nil, cutover.Errorf(cutover.EINVALID, "file %q: required field %q has no column in this file", fs.Name, fd.Name)
			}
		}
	}
	for _, n := range ent.Identity {
		f, _ := ent.Field(n)
		m.anyOf = append(m.anyOf, f.Index)
	}
	for _, d := range fs.Dedupe {
		f, _ := ent.Field(d)
		m.dedupe = append(m.dedupe, f.Index)
	}
	if fs.Derive == nil {
		m.expiry = deriveFits(RuleApplicantExpiry, ent) == nil && ent.Name == "applicant"
		m.tenancy = deriveFits(RuleTenancyStatus, ent) == nil && ent.Name == "tenancy"
	} else {
		for _, d := range *fs.Derive {
			m.expiry = m.expiry || d == RuleApplicantExpiry
			m.tenancy = m.tenancy || d == RuleTenancyStatus
		}
	}
	for i, h := range header {
		if !used[i] {
			m.unused = append(m.unused, h)
		}
	}
	m.compileGroups()
	m.countryCols = countryColumns(header)
	m.w = work{today: m.today, nowRFC: m.nowRFC}
	return m, nil
}

func normCol(s string) string { return mapdoc.NormColumn(s) }

func without(all, drop []string) []string {
	var out []string
	for _, a := range all {
		keep := true
		for _, d := range drop {
			if a == d {
				keep = false
			}
		}
		if keep {
			out = append(out, a)
		}
	}
	return out
}

func headerList(h []string) string {
	q := make([]string, 0, len(h))
	for i, c := range h {
		if i == 20 {
			q = append(q, fmt.Sprintf("and %d more", len(h)-20))
			break
		}
		q = append(q, strconv.Quote(c))
	}
	return strings.Join(q, ", ")
}

// Clone returns a Mapper with the same compiled mapping and its own scratch
// space, for another goroutine.
func (m *Mapper) Clone() *Mapper {
	c := *m
	c.scratch, c.valSlab, c.recSlab, c.strSlab = nil, nil, nil, nil
	c.w = work{today: m.today, nowRFC: m.nowRFC, market: m.market}
	return &c
}

// Entity returns the entity the mapper produces.
func (m *Mapper) Entity() *schema.Entity { return m.ent }

// Unmapped lists the header columns nothing reads: what will not migrate.
func (m *Mapper) Unmapped() []string { return append([]string(nil), m.unused...) }

// Dropped lists the target fields of optional mappings whose columns the
// file lacks.
func (m *Mapper) Dropped() []string { return append([]string(nil), m.dropped...) }

// SkipBlankRow is the built-in rule that skips rows with every cell empty,
// which spreadsheets leave behind.
const SkipBlankRow = "blank-row"

// SkipRules lists the names of the file's skip rules, the built-in
// blank-row rule first.
func (m *Mapper) SkipRules() []string {
	out := []string{SkipBlankRow}
	for _, s := range m.skips {
		out = append(out, s.name)
	}
	return out
}

// blank reports whether every cell of a row is empty or spaces.
func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// overflow returns the non-empty cells past the header's last column,
// joined, or "" when there are none (trailing empty cells are harmless).
func (m *Mapper) overflow(fields []string) string {
	if len(fields) <= len(m.header) {
		return ""
	}
	var extra []string
	for _, f := range fields[len(m.header):] {
		if strings.TrimSpace(f) != "" {
			extra = append(extra, f)
		}
	}
	return strings.Join(extra, " | ")
}

var (
	ruleExpiry  = []string{RuleApplicantExpiry}
	ruleTenancy = []string{RuleTenancyStatus}
	ruleBoth    = []string{RuleApplicantExpiry, RuleTenancyStatus}
)

// Map maps one row. line is the row's line number in the file (reported
// back in the record and issues); fields are its values in header order (a
// short row reads missing columns as empty). Map never fails: problems are
// in the Outcome.
func (m *Mapper) Map(line int, fields []string) Outcome {
	if blank(fields) {
		return Outcome{SkipRule: SkipBlankRow}
	}
	if extra := m.overflow(fields); extra != "" {
		return Outcome{Errors: []Issue{{Value: extra, Reason: fmt.Sprintf(
			"the row has %d cells but the header has %d columns, so its values may have shifted (an unquoted delimiter?)", len(fields), len(m.header))}}}
	}
	for _, s := range m.skips {
		if s.always || s.when.match(fields) {
			return Outcome{SkipRule: s.name}
		}
	}
	vals := m.newValues()
	var errs []Issue
	var bad []InvalidValue
	w := &m.w
	w.warns = nil
	w.region = m.rowRegion(fields)
	var combined []CombinedValue
	for i := range m.fields {
		cf := &m.fields[i]
		if cf.group >= 0 {
			// Several mappings fill this field: all of them are read
			// together, at the first one, as the group's rule says.
			if g := &m.groups[cf.group]; g.members[0] == i {
				if cv := m.mapGroup(g, line, fields, vals, &errs, &bad); cv != nil {
					combined = append(combined, *cv)
				}
			}
			continue
		}
		if cf.when != nil && !cf.when.match(fields) {
			continue
		}
		v, reason, items := m.eval(cf, fields)
		vals[cf.fd.Index] = v
		if items != nil && !hasInvalid(bad, cf.fd.Name) {
			bad = append(bad, *items) // some items of a list were left out; the rest migrate
		}
		if reason == "" {
			continue
		}
		raw := rawValue(cf, fields)
		if cf.strict {
			errs = append(errs, Issue{Field: cf.fd.Name, Column: cf.label, Value: raw, Reason: reason})
			continue
		}
		if !hasInvalid(bad, cf.fd.Name) {
			bad = append(bad, InvalidValue{Field: cf.fd.Name, Column: cf.label, Value: raw, Reason: reason})
		}
	}
	derived, pre := m.fillInline(w, fields, vals)
	var rules []string
	if len(errs) == 0 {
		if m.expiry && m.deriveExpiry(vals) {
			rules = ruleExpiry
		}
		if m.tenancy && m.deriveTenancy(w, vals) {
			if rules != nil {
				rules = ruleBoth
			} else {
				rules = ruleTenancy
			}
		}
	}
	for _, fd := range m.required {
		if vals[fd.Index].Kind == Absent && !hasIssue(errs, fd.Name) {
			errs = append(errs, Issue{Field: fd.Name, Column: m.labelOf(fd.Name), Reason: "required field is empty"})
		}
	}
	if len(m.anyOf) > 0 && len(errs) == 0 {
		found := false
		for _, i := range m.anyOf {
			found = found || vals[i].Kind != Absent
		}
		if !found {
			reason := fmt.Sprintf("the row has none of %s: nothing identifies this %s", strings.Join(m.ent.Identity, ", "), m.ent.Name)
			// The values that could not be read are why: say so in the
			// same reason, so the row counts once in the summary.
			for i, b := range bad {
				sep := "; "
				if i == 0 {
					sep = " (unreadable: "
				}
				reason += fmt.Sprintf("%s%s %s", sep, b.Field, b.Reason)
			}
			if len(bad) > 0 {
				reason += ")"
			}
			errs, bad = append(errs, Issue{Reason: reason}), nil
		}
	}
	if len(errs) > 0 {
		// A rejected row lists every value that could not be read, so
		// the rejects file says all that is wrong with it at once.
		for _, b := range bad {
			errs = append(errs, Issue(b))
		}
	} else {
		for _, b := range bad {
			w.warns = append(w.warns, Issue{Field: b.Field, Column: b.Column, Value: b.Value, Reason: "left out of the record: " + b.Reason})
		}
	}
	idVals := vals // what the row is identified by: its people as derived, before LinkWith linked them
	if len(pre) > 0 {
		idVals = slices.Clone(vals)
		for _, u := range pre {
			idVals[u.index] = u.value
		}
	}
	key := m.dedupeKey(idVals)
	sourceID, idIssue := m.sourceID(line, fields, key, idVals)
	if idIssue != nil {
		errs = append(errs, *idIssue)
	}
	if len(errs) > 0 {
		return Outcome{Errors: errs, Warnings: w.warns}
	}
	for k := range combined {
		combined[k].SourceID = sourceID
	}
	rec := m.newRecord()
	*rec = Record{
		ID:       cutover.RecordID(m.tenant, m.ent.Name, sourceID),
		Entity:   m.ent.Name,
		SourceID: sourceID,
		Line:     line,
		Fields:   vals,
		Invalid:  bad,
		def:      m.ent,
	}
	for i := range m.ent.Fields {
		fd := m.ent.Fields[i]
		if fd.ItemType() != schema.Ref || vals[i].Kind == Absent {
			continue
		}
		if vals[i].Kind == KList {
			for _, id := range vals[i].List {
				rec.Refs = append(rec.Refs, Ref{Field: fd.Name, Entity: fd.Ref, SourceID: id})
			}
		} else {
			rec.Refs = append(rec.Refs, Ref{Field: fd.Name, Entity: fd.Ref, SourceID: vals[i].Str})
		}
	}
	return Outcome{Record: rec, Warnings: w.warns, DedupeKey: key, Rules: rules, Derived: derived, Combined: combined}
}

// eval reads one mapping's value from a row: its columns (or constant)
// through its steps, built into a Value. reason says why the value could
// not be read ("" when it could); items, when not nil, are the items of a
// list left out on their own while the rest migrate.
func (m *Mapper) eval(cf *compiledField, fields []string) (v Value, reason string, items *InvalidValue) {
	w := &m.w
	work := m.scratch[:0]
	if cf.constant != nil {
		work = append(work, *cf.constant)
	} else {
		for _, c := range cf.cols {
			if c < len(fields) {
				work = append(work, fields[c])
			} else {
				work = append(work, "")
			}
		}
	}
	w.field, w.column = cf.fd.Name, cf.label
	w.perItem, w.badItems = cf.fd.Type == schema.List && !cf.strict, w.badItems[:0]
	for _, st := range cf.steps {
		if work, reason = st(w, work); reason != "" {
			break
		}
	}
	if cap(work) > cap(m.scratch) {
		m.scratch = work[:0]
	}
	if reason != "" {
		return Value{}, reason, nil
	}
	v, reason = build(cf.fd, work, cf.currency, m.newStrings)
	if reason == "" && len(w.badItems) > 0 {
		iv := InvalidValue{Field: cf.fd.Name, Column: cf.label}
		for k, b := range w.badItems {
			if k > 0 {
				iv.Value += " | "
				iv.Reason += "; "
			}
			iv.Value += b.Value
			iv.Reason += b.Reason
		}
		items = &iv
	}
	return v, reason, items
}

func hasInvalid(bad []InvalidValue, field string) bool {
	for _, b := range bad {
		if b.Field == field {
			return true
		}
	}
	return false
}

func hasIssue(errs []Issue, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

func (m *Mapper) labelOf(field string) string {
	for _, cf := range m.fields {
		if cf.fd.Name == field {
			return cf.label
		}
	}
	return ""
}

func rawValue(cf *compiledField, fields []string) string {
	if cf.constant != nil {
		return *cf.constant
	}
	if len(cf.cols) == 1 {
		if cf.cols[0] < len(fields) {
			return fields[cf.cols[0]]
		}
		return ""
	}
	parts := make([]string, len(cf.cols))
	for i, c := range cf.cols {
		if c < len(fields) {
			parts[i] = fields[c]
		}
	}
	return strings.Join(parts, " | ")
}

// dedupeKey joins the dedupe fields' values (a list's first item),
// lower-cased; "" when any is absent.
func (m *Mapper) dedupeKey(vals []Value) string {
	if len(m.dedupe) == 0 {
		return ""
	}
	var parts [4]string
	ps := parts[:0]
	for _, i := range m.dedupe {
		v := vals[i]
		var s string
		switch v.Kind {
		case Absent:
			return ""
		case KList:
			s = v.List[0]
		default:
			s = v.String()
		}
		ps = append(ps, strings.ToLower(s))
	}
	if len(ps) == 1 {
		return ps[0]
	}
	return strings.Join(ps, "\x1f")
}

// build turns a field's final working values into its Value, checking
// what the schema says about the type. A list's items go into room from
// newStrings (the mapper's slab).
func build(fd *schema.Field, work []string, currency string, newStrings func(n int) []string) (Value, string) {
	if fd.Type == schema.List {
		n := 0
		for _, s := range work {
			if strings.TrimSpace(s) != "" {
				n++
			}
		}
		if n == 0 {
			return Value{}, ""
		}
		list := newStrings(n)
	next:
		for _, s := range work {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			c, reason := checkItem(fd, fd.Of, s)
			if reason != "" {
				return Value{}, reason
			}
			for _, have := range list {
				if have == c {
					continue next
				}
			}
			list = append(list, c)
		}
		return Value{Kind: KList, List: list}, ""
	}
	s := ""
	switch len(work) {
	case 0:
	case 1:
		s = work[0]
	default:
		var b strings.Builder
		for _, v := range work {
			if v = strings.TrimSpace(v); v != "" {
				if b.Len() > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(v)
			}
		}
		s = b.String()
	}
	if fd.Type != schema.Text {
		s = strings.TrimSpace(s)
	}
	if strings.TrimSpace(s) == "" {
		return Value{}, ""
	}
	c, reason := checkItem(fd, fd.Type, s)
	if reason != "" {
		return Value{}, reason
	}
	switch fd.Type {
	case schema.Integer:
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			return Value{}, fmt.Sprintf("%q is not a whole number", s)
		}
		return Value{Kind: KInt, Int: n}, ""
	case schema.Number:
		return Value{Kind: KNumber, Str: c}, "" // c is already a checked, canonical decimal
	case schema.Money:
		n, ok := minorUnits(c)
		if !ok {
			return Value{}, fmt.Sprintf("%q is not an amount of money", s)
		}
		return Value{Kind: KMoney, Int: n, Str: currency}, ""
	case schema.Boolean:
		return Value{Kind: KBool, Bool: c == "true"}, ""
	}
	return Value{Kind: KString, Str: c}, ""
}

// checkItem validates one canonical item of type t against fd's
// constraints and returns its final form.
func checkItem(fd *schema.Field, t schema.Type, s string) (string, string) {
	switch t {
	case schema.Enum:
		c, ok := fd.EnumValue(s)
		if !ok {
			return "", fmt.Sprintf("%q is not one of %s", s, strings.Join(fd.Values, ", "))
		}
		return c, ""
	case schema.Integer:
		if i := strings.IndexByte(s, '.'); i >= 0 {
			return "", fmt.Sprintf("%q is not a whole number", s)
		}
		fallthrough
	case schema.Number:
		if fd.Min != nil || fd.Max != nil {
			f, _ := strconv.ParseFloat(s, 64)
			if fd.Min != nil && f < *fd.Min {
				return "", fmt.Sprintf("%s is less than the minimum %v", s, *fd.Min)
			}
			if fd.Max != nil && f > *fd.Max {
				return "", fmt.Sprintf("%s is more than the maximum %v", s, *fd.Max)
			}
		}
	case schema.String, schema.Text, schema.Ref:
		if fd.MaxLength > 0 && len(s) > fd.MaxLength && runeCount(s) > fd.MaxLength {
			return "", fmt.Sprintf("is %d characters long; the limit is %d", runeCount(s), fd.MaxLength)
		}
		if fd.Re != nil && !fd.Re.MatchString(s) {
			return "", fmt.Sprintf("%q does not match the required format", s)
		}
	}
	return s, ""
}

// deriveExpiry archives an applicant whose expiry date has passed, and
// marks one with no status active. It reports whether it changed the status.
func (m *Mapper) deriveExpiry(vals []Value) bool {
	ef, _ := m.ent.Field("expiry_date")
	sf, _ := m.ent.Field("status")
	exp, st := vals[ef.Index], &vals[sf.Index]
	if exp.Kind == KString && exp.Str < m.today {
		if st.Str != "archived" {
			*st = Value{Kind: KString, Str: "archived"}
			return true
		}
		return false
	}
	if st.Kind == Absent {
		*st = Value{Kind: KString, Str: "active"}
		return true
	}
	return false
}

// deriveTenancy sets a tenancy's status from its dates; see README.md,
// "Row rules". It reports whether it changed the status.
func (m *Mapper) deriveTenancy(w *work, vals []Value) bool {
	get := func(n string) string {
		f, ok := m.ent.Field(n)
		if !ok {
			return ""
		}
		return vals[f.Index].Str
	}
	sf, _ := m.ent.Field("status")
	src := vals[sf.Index].Str
	start, end, renewal := get("start_date"), get("end_date"), get("renewal_date")
	var st, why string
	switch {
	case src == "ended":
		st = "ended"
	case end != "" && end < m.today:
		if src == "periodic" {
			st = "periodic"
		} else {
			st, why = "ended", "the end date "+end+" has passed"
		}
	case renewal != "" && renewal <= m.today:
		st, why = "renewed", "it was renewed on "+renewal
	case end == "" && start != "" && start <= m.today:
		st, why = "periodic", "it has started and has no end date"
	default:
		st, why = "active", "its fixed term is running or has not started"
	}
	if st == src {
		return false
	}
	if src != "" {
		w.field, w.column = "status", m.labelOf("status")
		w.warn(src, fmt.Sprintf("status %q in the source, but %s: set to %q", src, why, st))
	}
	vals[sf.Index] = Value{Kind: KString, Str: st}
	return true
}

// moneyCurrencyOf is the currency a money mapping produces: its money
// step's, else the spec default, else GBP.
func moneyCurrencyOf(fm FieldMapping, defs Defaults) string {
	for i := len(fm.Steps) - 1; i >= 0; i-- {
		if (fm.Steps[i].Op == "money" || fm.Steps[i].Op == opAmount) && fm.Steps[i].Currency != "" {
			return fm.Steps[i].Currency
		}
	}
	if defs.Currency != "" {
		return defs.Currency
	}
	return "GBP"
}

// Package presets holds mapping specs for the exports people really bring
// (HubSpot, Salesforce, Mailchimp, Pipedrive, Zoho, Google Contacts,
// Outlook, Yahoo, beehiiv, Substack, WordPress/AccessAlly, Rightmove BLM, a
// generic estate-agency CRM), as embedded JSON templates, and recognises
// them by their header signatures. A signature requires columns only its
// vendor writes, so that presets do not take each other's files.
//
// A preset file is {"id","title","notes","signatures":{file: signature},
// "spec": <a mapping spec>}; each signature names the columns a file of
// that kind must have ("require"), may have ("any"), and must not have
// ("absent").
package presets

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/mapspec"
	"github.com/cutover/cutover/internal/schema"
)

//go:embed *.json
var files embed.FS

// Preset is one vendor's export format.
type Preset struct {
	ID         string
	Title      string
	Notes      string
	Signatures map[string]Signature // by file name in Spec
	Spec       *mapspec.Spec
}

// Signature recognises a file by its header.
type Signature struct {
	Require []string `json:"require"`
	Any     []string `json:"any,omitempty"`
	Absent  []string `json:"absent,omitempty"`
	// Ignore lists columns the vendor writes that the preset deliberately
	// does not migrate (Outlook's Anniversary is no creation date, its
	// Middle Name no full name): suggestions never map them, so they stay
	// on the unmapped list for the customer to choose.
	Ignore []string `json:"ignore,omitempty"`
}

type presetFile struct {
	ID         string               `json:"id"`
	Title      string               `json:"title"`
	Notes      string               `json:"notes"`
	Signatures map[string]Signature `json:"signatures"`
	Spec       json.RawMessage      `json:"spec"`
}

// all parses the embedded presets on first use rather than at package
// initialisation: parsing them validates each spec (compiling the JSON
// Schema too), which every cold start of a function that links the engine
// would otherwise pay for, whether or not it proposes a mapping. The tests
// parse them all, so a broken preset fails there, not in a Lambda.
var all = sync.OnceValue(func() []*Preset {
	ps, err := load(schema.Default())
	if err != nil {
		panic("presets: " + err.Error())
	}
	return ps
})

// load parses every embedded preset against sch.
func load(sch *schema.Schema) ([]*Preset, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var out []*Preset
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		p, err := parse(data, sch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if p.ID+".json" != path.Base(e.Name()) {
			return nil, fmt.Errorf("%s: id %q does not match the file name", e.Name(), p.ID)
		}
		out = append(out, p)
	}
	return out, nil
}

// Parse reads a preset file (a vendor may add their own) against sch.
//
// Errors: EINVALID when the JSON is malformed, the spec is invalid (as
// mapspec.ParseWith), or a signature names a file the spec lacks or
// requires no column.
func Parse(data []byte, sch *schema.Schema) (*Preset, error) { return parse(data, sch) }

func parse(data []byte, sch *schema.Schema) (*Preset, error) {
	var pf presetFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, cutover.Wrap(cutover.EINVALID, err, "preset: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if pf.ID == "" {
		return nil, cutover.Errorf(cutover.EINVALID, "preset: id is missing")
	}
	sp, err := mapspec.ParseWith(pf.Spec, sch)
	if err != nil {
		return nil, cutover.Wrap(cutover.EINVALID, err, "preset %s: %s", pf.ID, cutover.ErrorMessage(err))
	}
	for name, sig := range pf.Signatures {
		if _, ok := sp.File(name); !ok {
			return nil, cutover.Errorf(cutover.EINVALID, "preset %s: signature for file %q, which the spec does not have", pf.ID, name)
		}
		if len(sig.Require) == 0 {
			return nil, cutover.Errorf(cutover.EINVALID, "preset %s: signature %q requires no column", pf.ID, name)
		}
	}
	for _, f := range sp.Files {
		if _, ok := pf.Signatures[f.Name]; !ok {
			return nil, cutover.Errorf(cutover.EINVALID, "preset %s: file %q has no signature", pf.ID, f.Name)
		}
	}
	return &Preset{ID: pf.ID, Title: pf.Title, Notes: pf.Notes, Signatures: pf.Signatures, Spec: sp}, nil
}

// All returns the built-in presets, ordered by id.
func All() []*Preset { return all() }

// Lookup returns the built-in preset with the given id.
func Lookup(id string) (*Preset, bool) {
	for _, p := range all() {
		if p.ID == id {
			return p, true
		}
	}
	return nil, false
}

// Match is a preset file whose signature fits a header.
type Match struct {
	Preset  string   `json:"preset"`
	File    string   `json:"file"` // the file's name in the preset's spec
	Entity  string   `json:"entity"`
	Title   string   `json:"title"`
	Score   float64  `json:"score"`   // 0..1: the share of the file spec's columns the header has, weighted with the share of the header the spec reads
	Matched []string `json:"matched"` // header columns the file spec reads, in header order
	Missing []string `json:"missing,omitempty"`
}

// Detect returns the preset files whose signature fits header, best first.
// A signature fits when the header has every required column and none of
// the absent ones; column names match ignoring case and surrounding spaces.
func Detect(header []string) []Match { return detect(all(), header) }

func detect(ps []*Preset, header []string) []Match {
	have := map[string]bool{}
	for _, h := range header {
		have[norm(h)] = true
	}
	var out []Match
	for _, p := range ps {
		for _, f := range p.Spec.Files {
			sig := p.Signatures[f.Name]
			ok := true
			hasCol := func(c string) bool { // the column or one of its aliases (mapspec aliases.go)
				for _, n := range f.ColumnNames(c) {
					if have[norm(n)] {
						return true
					}
				}
				return false
			}
			for _, c := range sig.Require {
				ok = ok && hasCol(c)
			}
			for _, c := range sig.Absent {
				ok = ok && !have[norm(c)]
			}
			if !ok {
				continue
			}
			cols := columnsOf(f)
			m := Match{Preset: p.ID, File: f.Name, Entity: f.Entity, Title: p.Title}
			for _, c := range cols {
				if !hasCol(c) {
					m.Missing = append(m.Missing, c)
				}
			}
			slices.Sort(m.Missing) // cols is a map: the same file lists the same columns in the same order
			alias := map[string]bool{}
			for _, alts := range f.Aliases {
				for _, a := range alts {
					alias[norm(a)] = true
				}
			}
			for _, h := range header {
				if cols[norm(h)] != "" || alias[norm(h)] {
					m.Matched = append(m.Matched, h)
				}
			}
			anyHit := len(sig.Any) == 0
			for _, c := range sig.Any {
				anyHit = anyHit || hasCol(c)
			}
			coverage := float64(len(m.Matched)) / float64(max(1, len(header)))
			precision := float64(len(m.Matched)) / float64(max(1, len(cols)))
			m.Score = 0.5*precision + 0.3*coverage
			if anyHit {
				m.Score += 0.2
			}
			m.Score = float64(int(m.Score*1000+0.5)) / 1000
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// columnsOf maps the normalised name of every column a file spec reads to
// its spelling.
func columnsOf(f mapspec.FileSpec) map[string]string {
	cols := map[string]string{}
	add := func(c string) { cols[norm(c)] = c }
	for _, c := range f.SourceID {
		add(c)
	}
	for _, r := range f.Skip {
		if r.When != nil {
			add(r.When.Column)
		}
	}
	for _, in := range f.Inline {
		for _, c := range []string{in.Name, in.Email, in.Phone} {
			if c != "" {
				add(c)
			}
		}
	}
	for _, m := range f.Fields {
		for _, c := range m.SourceColumns() {
			add(c)
		}
		if m.When != nil {
			add(m.When.Column)
		}
	}
	return cols
}

func norm(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

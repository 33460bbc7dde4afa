package presets

import (
	"sort"

	"github.com/cutover/cutover/internal/mapspec"
)

// Proposal is the mapping proposed for one file: a recognised preset's
// file spec, or one built from the column suggestions.
type Proposal struct {
	File     mapspec.FileSpec
	Defaults mapspec.Defaults
	Preset   string  // the preset's id; "" when built from suggestions
	Score    float64 // the preset's match score
}

// MinPresetScore is the match score from which a preset is trusted over
// the column-by-column suggestions.
const MinPresetScore = 0.5

// MinConfidence is the confidence a suggestion needs to be put in a
// proposed mapping; the rest are shown for a person to decide.
const MinConfidence = 0.5

// SuggestedDefaults are the defaults of a mapping built from suggestions:
// the phone region is inferred from the file (then the migration's
// market), never assumed; ISO and day-first dates are listed, and date
// inference picks among them or adds the format the file really uses.
var SuggestedDefaults = mapspec.Defaults{Region: mapspec.RegionAuto, DateFormats: []string{"ISO", "DD/MM/YYYY"}}

// Propose proposes a mapping for a file named name (the name the file spec
// gets) from its header and a sample of its rows. Propose never fails:
// with nothing recognisable it proposes a contact mapping of whatever
// columns it can place.
func Propose(name string, header []string, sample [][]string) Proposal {
	if ms := Detect(header); len(ms) > 0 && ms[0].Score >= MinPresetScore {
		m := ms[0]
		if p, ok := Lookup(m.Preset); ok {
			for _, f := range p.Spec.Files {
				if f.Name == m.File {
					f.Name = name
					return Proposal{File: f, Defaults: p.Spec.Defaults, Preset: p.ID, Score: m.Score}
				}
			}
		}
	}
	sugg := mapspec.Suggest(header, sample)
	votes := map[string]int{}
	for _, s := range sugg {
		if s.Target != "" && s.Confidence >= MinConfidence {
			votes[s.Entity]++
		}
	}
	entities := make([]string, 0, len(votes))
	for e := range votes {
		entities = append(entities, e)
	}
	sort.Slice(entities, func(i, j int) bool {
		return votes[entities[i]] > votes[entities[j]] || votes[entities[i]] == votes[entities[j]] && entities[i] < entities[j]
	})
	fs := mapspec.FileSpec{Name: name, Entity: "contact"}
	if len(entities) > 0 {
		fs.Entity = entities[0]
	}
	seen := map[string]bool{}
	for _, s := range sugg {
		if s.SourceID && len(fs.SourceID) == 0 {
			fs.SourceID = []string{s.Column}
		}
		if s.Entity != fs.Entity || s.Target == "" || s.Confidence < MinConfidence || seen[s.Target] {
			continue
		}
		seen[s.Target] = true
		fs.Fields = append(fs.Fields, mapspec.FieldMapping{Target: s.Target, Column: s.Column})
	}
	return Proposal{File: fs, Defaults: SuggestedDefaults}
}

// ProposeSpec proposes a whole mapping for several files: each file's
// proposal, with the suggested defaults for the spec and each preset's own
// defaults on its files, so files from different systems keep their own
// date formats, timezone and phone region.
func ProposeSpec(props []Proposal) *mapspec.Spec {
	spec := &mapspec.Spec{Version: mapspec.Version, Defaults: SuggestedDefaults}
	for _, p := range props {
		f := p.File
		if p.Preset != "" {
			d := p.Defaults
			f.Defaults = &d
		}
		spec.Files = append(spec.Files, f)
	}
	return spec
}

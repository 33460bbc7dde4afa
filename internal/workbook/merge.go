package workbook

import "slices"

// A test migration runs over chunks, each with a sampler of its own; the
// step that finishes it merges their samples into one sampler, which then
// picks the spot checks and lists the duplicate groups as a sampler of the
// whole extract would have.

// Samples is what a sampler holds, in a form that is stored with a chunk
// (JSON) and merged (Sampler.Merge).
type Samples struct {
	Named   []NamedSample     `json:"named,omitempty"`
	Files   []ReservoirSample `json:"files,omitempty"`
	Flagged []ReservoirSample `json:"flagged,omitempty"`
	Groups  []DuplicateGroup  `json:"groups,omitempty"`
}

// NamedSample is the best sighting of a named source id (Key is its entity
// and id), ranked as outcomeRank ranks them.
type NamedSample struct {
	Key  string    `json:"key"`
	Rank int       `json:"rank"`
	Spot SpotCheck `json:"spot"`
}

// ReservoirSample is one reservoir: its key, how many records it was
// offered, and what it kept.
type ReservoirSample struct {
	Key   string `json:"key"`
	Seen  int    `json:"seen"`
	Picks []Pick `json:"picks"`
}

// Samples returns what s holds, in the order it first saw each thing.
func (s *Sampler) Samples() Samples {
	var out Samples
	for _, k := range s.order {
		out.Named = append(out.Named, NamedSample{Key: k, Rank: s.seen[k].rank, Spot: s.seen[k].spot})
	}
	for _, k := range s.fileSeq {
		r := s.files[k]
		out.Files = append(out.Files, ReservoirSample{Key: k, Seen: r.seen, Picks: r.picks})
	}
	for _, k := range sortedKeys(s.flagged) {
		r := s.flagged[k]
		out.Flagged = append(out.Flagged, ReservoirSample{Key: k, Seen: r.seen, Picks: r.picks})
	}
	out.Groups = s.dups.list()
	return out
}

// Merge adds the samples of rows s did not see (a later chunk's): a named
// id keeps its best sighting (the first of equals), each reservoir keeps
// the lowest priorities of both, and the duplicate groups are listed after
// s's, up to MaxListedGroups of each kind. Merging every chunk's samples in
// chunk order into a fresh sampler of the same seed and named ids gives
// the spot checks one sampler of every row gives. (A dedupe key's groups
// never span samplers: a mapping that merges across chunks samples its
// records in its merge partitions, each of which holds every record of
// its keys.)
func (s *Sampler) Merge(in Samples) {
	for _, n := range in.Named {
		cur, ok := s.seen[n.Key]
		if !ok {
			s.order = append(s.order, n.Key)
		}
		if !ok || n.Rank > cur.rank {
			s.seen[n.Key] = &namedSpot{spot: n.Spot, rank: n.Rank}
		}
	}
	for _, f := range in.Files {
		if _, ok := s.files[f.Key]; !ok {
			s.fileSeq = append(s.fileSeq, f.Key)
		}
		s.reservoir(s.files, f.Key, SpotChecksPerEntity).merge(f)
	}
	for _, f := range in.Flagged {
		s.reservoir(s.flagged, f.Key, FlaggedPerEntity).merge(f)
	}
	for i := range in.Groups {
		g := in.Groups[i]
		if d := &s.dups; d.counts[g.Kind] < MaxListedGroups {
			d.counts[g.Kind]++
			d.groups = append(d.groups, &g)
		}
	}
}

func (r *reservoir) merge(in ReservoirSample) {
	r.seen += in.Seen
	for _, p := range in.Picks {
		if len(r.picks) == r.size && p.Priority >= r.picks[len(r.picks)-1].Priority {
			continue
		}
		r.add(p)
	}
}

func sortedKeys(m map[string]*reservoir) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

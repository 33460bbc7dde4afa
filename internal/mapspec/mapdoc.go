package mapspec

// The spec's document types live in internal/mapdoc, which links no
// engine, so the Lambdas that only read a spec stay small. They keep their
// names here, as aliases, so the engine's callers did not change.

import (
	"github.com/cutover/cutover/internal/mapdoc"
	"github.com/cutover/cutover/internal/schema"
)

// The spec format (see mapdoc).
type (
	Spec         = mapdoc.Spec
	Defaults     = mapdoc.Defaults
	FileSpec     = mapdoc.FileSpec
	SkipRule     = mapdoc.SkipRule
	Condition    = mapdoc.Condition
	FieldMapping = mapdoc.FieldMapping
	Step         = mapdoc.Step
	CombineRule  = mapdoc.CombineRule
	InlinePerson = mapdoc.InlinePerson
)

// What the engine reports about rows (see mapdoc).
type (
	Issue             = mapdoc.Issue
	DateGuess         = mapdoc.DateGuess
	RegionGuess       = mapdoc.RegionGuess
	PossibleDuplicate = mapdoc.PossibleDuplicate
)

// Constants of the spec format (see mapdoc).
const (
	Version             = mapdoc.Version
	RegionAuto          = mapdoc.RegionAuto
	RuleApplicantExpiry = mapdoc.RuleApplicantExpiry
	RuleTenancyStatus   = mapdoc.RuleTenancyStatus
	SourceIDFromContent = mapdoc.SourceIDFromContent
	CombineAll          = mapdoc.CombineAll
	CombineFirst        = mapdoc.CombineFirst
	CombineConcat       = mapdoc.CombineConcat
	DefaultSeparator    = mapdoc.DefaultSeparator
)

// DefaultCombine is mapdoc.DefaultCombine: how several mappings of fd
// combine when the spec does not say.
func DefaultCombine(fd *schema.Field) string { return mapdoc.DefaultCombine(fd) }

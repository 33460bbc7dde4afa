package mapdoc

import "github.com/cutover/cutover/internal/schema"

// How several mappings of one target field combine (FileSpec.Combine).
// Two columns mapped to one field used to keep only the first non-empty
// value, silently: a customer who mapped "Lifecycle Stage" and "Tags" to
// tags lost the tags. Now the choice is explicit, or the default keeps
// every value of a list and reports every value another column overruled.
const (
	// CombineAll keeps every value of every mapping, in mapping order,
	// each once. Only for list fields; their default.
	CombineAll = "combine"
	// CombineFirst keeps the first non-empty value; the values of later
	// mappings are not migrated and are reported (workbook). The default
	// for fields that are not lists.
	CombineFirst = "first"
	// CombineConcat joins the non-empty values with Separator. Only for
	// string and text fields.
	CombineConcat = "concat"
)

// DefaultSeparator joins concatenated values when the rule names none.
const DefaultSeparator = "; "

// CombineRule says how the mappings of one target field combine.
type CombineRule struct {
	Mode string `json:"mode"`
	// Separator joins the values of a concat rule ("; " when nil).
	Separator *string `json:"separator,omitempty"`
}

// DefaultCombine is how several mappings of fd combine when the spec does
// not say: a list keeps every value, any other field the first non-empty.
func DefaultCombine(fd *schema.Field) string {
	if fd.Type == schema.List {
		return CombineAll
	}
	return CombineFirst
}

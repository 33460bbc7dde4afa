package mapdoc

// InlinePerson derives the records a row names inline and fills a reference
// field with them.
type InlinePerson struct {
	// Target is a reference field (or list of references) of the file's
	// entity; the derived records are of the entity it refers to, which
	// must have a full_name field.
	Target string `json:"target"`
	// Name is the column naming the person or people.
	Name string `json:"name"`
	// Email and Phone are optional columns that identify a single person
	// further (ignored when the name cell names several people).
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Separators split several people in one cell (default ";", "&", "/"
	// and " and ").
	Separators []string `json:"separators,omitempty"`
	// Optional drops the entry when the name column is missing.
	Optional bool `json:"optional,omitempty"`
}

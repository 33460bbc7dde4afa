package mapspec

// The spec format's JSON Schema: the structural check every spec passes
// before the engine's own checks, and the source of the error messages a
// spec author sees for a misspelt key or a wrong type. The validator is
// github.com/santhosh-tekuri/jsonschema: it reports where a problem is as
// a list of keys, so a key holding a dot (an alias for the column
// "e.mail", a lookup from "Mr.") is named as it is, not split in two.

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/cutover/cutover/internal/cutover"
)

//go:embed mapspec.schema.json
var jsonSchema []byte

// JSONSchema returns a copy of the spec format's JSON Schema (draft-07).
func JSONSchema() []byte { return bytes.Clone(jsonSchema) }

// jsonSchemaURL is the embedded schema's $id, under which it is compiled.
const jsonSchemaURL = "https://cutover.dev/schemas/mapspec-v1.json"

// compiledJSONSchema compiles the embedded schema the first time a spec is
// parsed, not at package initialisation, so a program that links mapspec
// but parses no spec does not pay for it on every cold start.
var compiledJSONSchema = sync.OnceValue(func() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(jsonSchema))
	if err != nil {
		panic("mapspec: embedded mapspec.schema.json is not JSON: " + err.Error())
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource(jsonSchemaURL, doc); err != nil {
		panic("mapspec: embedded mapspec.schema.json: " + err.Error())
	}
	s, err := c.Compile(jsonSchemaURL)
	if err != nil {
		panic("mapspec: embedded mapspec.schema.json is invalid: " + err.Error())
	}
	return s
})

// checkJSONSchema validates data, which is valid JSON, against the spec
// format's JSON Schema.
//
// Errors: EINVALID listing the problems by JSON path, the deepest first
// and at most five, e.g. `$.files[0].fields[0]: unknown key "colum"`.
func checkJSONSchema(data []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return cutover.Wrap(cutover.EINVALID, err, "mapping spec: invalid JSON")
	}
	err = compiledJSONSchema().Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return cutover.Wrap(cutover.EINVALID, err, "mapping spec: invalid JSON")
	}
	return cutover.Errorf(cutover.EINVALID, "mapping spec: %s", schemaErrors(doc, ve))
}

// schemaErrors lists the problems of a failed validation. The validator
// reports a tree (a failing $ref or property holds the failures inside
// it); only the leaves say what is wrong, so only they are listed.
func schemaErrors(doc any, ve *jsonschema.ValidationError) string {
	var out []string
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if pn, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			add(&out, seen, jsonPath(doc, e.InstanceLocation)+pathKey(pn.Property)+": is not an allowed key"+firstCause(e))
			return
		}
		if len(e.Causes) == 0 {
			add(&out, seen, jsonPath(doc, e.InstanceLocation)+": "+describe(e.ErrorKind))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i] < out[j] })
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more", len(out)-5))
	}
	if len(out) == 0 {
		return "does not match the spec format"
	}
	return strings.Join(out, "; ")
}

func add(out *[]string, seen map[string]bool, msg string) {
	if !seen[msg] {
		seen[msg] = true
		*out = append(*out, msg)
	}
}

// firstCause is ", " and what the first leaf under e says, or "".
func firstCause(e *jsonschema.ValidationError) string {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	if _, ok := e.ErrorKind.(*kind.PropertyNames); ok {
		return ""
	}
	return " (" + describe(e.ErrorKind) + ")"
}

// printer renders the validator's own messages for the kinds describe
// does not word itself.
var printer = sync.OnceValue(func() *message.Printer { return message.NewPrinter(language.English) })

// describe words one failure for a spec author.
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = article(w)
		}
		return "must be " + strings.Join(want, " or ") + ", not " + article(k.Got)
	case *kind.Const:
		return "must be " + display(k.Want)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = display(w)
		}
		return "must be one of the following: " + strings.Join(want, ", ")
	case *kind.Required:
		return "needs " + quoteAll(k.Missing)
	case *kind.AdditionalProperties:
		if len(k.Properties) == 1 {
			return "unknown key " + strconv.Quote(k.Properties[0])
		}
		return "unknown keys " + quoteAll(k.Properties)
	case *kind.MinItems:
		return fmt.Sprintf("needs at least %d item(s)", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("can have at most %d item(s)", k.Want)
	case *kind.MinLength:
		if k.Want == 1 {
			return "cannot be empty"
		}
		return fmt.Sprintf("needs at least %d characters", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("can be at most %d characters long", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("can have at most %d keys", k.Want)
	case *kind.Pattern:
		return fmt.Sprintf("%q does not match the pattern %s", k.Got, k.Want)
	case *kind.Minimum:
		return "must be at least " + k.Want.RatString()
	case *kind.Maximum:
		return "must be at most " + k.Want.RatString()
	}
	return k.LocalizedString(printer())
}

// article names a JSON type with its article: "an object", "a string".
func article(t string) string {
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return t
	}
	return "a " + t
}

// display shows a value of the schema as JSON: strings quoted.
func display(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// jsonPath writes the location of a value in doc, given as the keys and
// indexes that lead to it, as a JSON path: "$.files[0].aliases["e.mail"]".
// It walks doc alongside, so an object key made of digits ("7") is told
// from an array index.
func jsonPath(doc any, tokens []string) string {
	var b strings.Builder
	b.WriteString("$")
	cur := doc
	for _, tok := range tokens {
		switch v := cur.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			cur = nil
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(v) {
				cur = v[i]
			}
		case map[string]any:
			b.WriteString(pathKey(tok))
			cur = v[tok]
		default:
			b.WriteString(pathKey(tok))
			cur = nil
		}
	}
	return b.String()
}

// pathKey is how a JSON path names the key k of an object: ".k" for a
// name of letters, digits and underscores that does not start with a
// digit, `["k"]` for any other key, so a dot in a key cannot read as a
// level of its own. The engine's own checks name keys the same way.
func pathKey(k string) string {
	name := k != ""
	for i, r := range k {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			name = false
			break
		}
	}
	if name {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

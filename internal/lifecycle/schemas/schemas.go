// Package schemas holds the JSON Schema (draft 2020-12) of every lifecycle
// event's EventBridge detail, one file per event type, named after it
// (test.completed.json, …): the contract vendors read (README, "Lifecycle
// events"), and what the tests validate every emitted event against.
package schemas

import (
	"bytes"
	"embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

// Validate checks detail, an event's EventBridge detail, against the
// schema of event type typ.
//
// It returns an error naming the type when there is no schema for it, the
// schema does not compile, the detail is not JSON, or the detail breaks
// the schema (with the validator's account of where).
func Validate(typ string, detail []byte) error {
	name := typ + ".json"
	raw, err := files.ReadFile(name)
	if err != nil {
		return fmt.Errorf("schemas: no schema for event type %q", typ)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("schemas: %s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		return fmt.Errorf("schemas: %s: %w", name, err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		return fmt.Errorf("schemas: %s: %w", name, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(detail))
	if err != nil {
		return fmt.Errorf("schemas: the %s detail is not JSON: %w", typ, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("schemas: the %s detail breaks its schema: %w", typ, err)
	}
	return nil
}

package mapspec

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestJSONSchemaMatchesGo checks that the JSON Schema and the Go types
// describe the same properties, so neither can drift from the other.
func TestJSONSchemaMatchesGo(t *testing.T) {
	var js struct {
		Properties  map[string]any `json:"properties"`
		Definitions map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(JSONSchema(), &js); err != nil {
		t.Fatal(err)
	}
	for def, typ := range map[string]any{"": Spec{}, "defaults": Defaults{}, "file": FileSpec{}, "skip": SkipRule{}, "condition": Condition{}, "field": FieldMapping{}, "step": Step{}, "inline": InlinePerson{}} {
		props := js.Properties
		if def != "" {
			props = js.Definitions[def].Properties
		}
		var fromSchema, fromGo []string
		for k := range props {
			fromSchema = append(fromSchema, k)
		}
		rt := reflect.TypeOf(typ)
		for i := 0; i < rt.NumField(); i++ {
			if tag := rt.Field(i).Tag.Get("json"); tag != "" {
				fromGo = append(fromGo, strings.Split(tag, ",")[0])
			}
		}
		sort.Strings(fromSchema)
		sort.Strings(fromGo)
		if strings.Join(fromSchema, ",") != strings.Join(fromGo, ",") {
			t.Errorf("%q: JSON Schema has %v, Go has %v", def, fromSchema, fromGo)
		}
	}
}

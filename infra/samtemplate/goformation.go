package samtemplate

// This file holds what the loader does because of goformation
// (github.com/awslabs/goformation/v7), apart from the builders in load.go
// that turn the parsed template into the model:
//
//   - goformationMu: goformation's YAML reader registers its tag handlers in
//     a package-level map on every call, so concurrent Loads would race;
//   - parseResolved: goformation's own intrinsic handlers do not know the
//     local stack's names, so the template goes through its processor with
//     our handlers (resolve.go), is pruned and coerced (below), and only
//     then parsed into goformation's types;
//   - pruneUnknown: goformation rejects properties its generated types do
//     not declare yet (a function's LoggingConfig, an HttpApi's
//     AccessLogSettings), so they are dropped and reported in Model.Ignored;
//   - coerce (with jsonFields): CloudFormation parameter values are strings
//     and CloudFormation converts them to the property's type, but
//     goformation's JSON decoding does not, so "30" must become 30 for an
//     integer property and 168 must become "168" for a string one.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// goformation's YAML reader registers its tag handlers in a package-level map
// on every call, so calls into it are serialised.
var goformationMu sync.Mutex

// parseResolved resolves the template's intrinsic functions with r, drops
// properties goformation does not model (returning them), and parses the
// result with goformation.
func parseResolved(data []byte, r *resolver) (*cloudformation.Template, []string, error) {
	goformationMu.Lock()
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: r.handlers()})
	goformationMu.Unlock()

	if err != nil {
		return nil, nil, fmt.Errorf("samtemplate: resolve template: %w", err)
	}

	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, nil, fmt.Errorf("samtemplate: resolve template: %w", err)
	}

	dropUnconditioned(doc, r.conds)

	for _, section := range []string{"Resources", "Outputs", "Globals"} {
		if v, ok := doc[section]; ok {
			doc[section] = dropNoValue(v)
		}
	}

	ignored := pruneUnknown(doc)

	js, err = json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("samtemplate: resolve template: %w", err)
	}

	tpl, err := goformation.ParseJSONWithOptions(js, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, nil, fmt.Errorf("samtemplate: parse template with goformation: %w", err)
	}

	return tpl, ignored, nil
}

// pruneUnknown removes resource and Globals properties goformation's types
// do not declare (goformation rejects unknown properties) and returns them as
// "LogicalId.Property", sorted. It also coerces scalar values to the types
// goformation expects, the way CloudFormation does: parameter values are
// strings, so "30" must become 30 for an integer property and 168 must
// become "168" for a string one.
func pruneUnknown(doc map[string]any) []string {
	all := cloudformation.AllResources()

	var ignored []string

	prune := func(where string, props map[string]any, model any) {
		t := reflect.TypeOf(model)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}

		fields := jsonFields(t)
		for k, v := range props {
			f, ok := fields[k]
			if !ok {
				delete(props, k)
				ignored = append(ignored, where+"."+k)

				continue
			}

			props[k] = coerce(v, f.Type)
		}
	}

	if resources, ok := doc["Resources"].(map[string]any); ok {
		for id, v := range resources {
			res, _ := v.(map[string]any)
			props, _ := res["Properties"].(map[string]any)
			typ, _ := res["Type"].(string)

			if model, ok := all[typ]; ok && props != nil {
				prune(id, props, model)
			}
		}
	}

	if globals, ok := doc["Globals"].(map[string]any); ok {
		for section, v := range globals {
			props, _ := v.(map[string]any)
			if model, ok := all[section]; ok && props != nil {
				prune("Globals."+section, props, model)
			}
		}
	}

	sort.Strings(ignored)

	return ignored
}

// jsonFields returns the fields of a goformation struct type by JSON name.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}

	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = t.Field(i)
		}
	}

	return out
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// coerce converts JSON scalars in v to the kinds t expects (strings to
// numbers or booleans and back), recursing through structs, maps and
// slices. Types with their own JSON decoding are left alone.
func coerce(v any, t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}

	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return v
	}

	switch t.Kind() {
	case reflect.String:
		switch x := v.(type) {
		case float64, bool:
			return scalarString(x)
		}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		if s, ok := v.(string); ok {
			if n, err := strconv.ParseFloat(s, 64); err == nil {
				return n
			}
		}
	case reflect.Bool:
		if s, ok := v.(string); ok {
			if b, err := strconv.ParseBool(s); err == nil {
				return b
			}
		}
	case reflect.Slice:
		if xs, ok := v.([]any); ok {
			for i := range xs {
				xs[i] = coerce(xs[i], t.Elem())
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				m[k] = coerce(m[k], t.Elem())
			}
		}
	case reflect.Struct:
		if m, ok := v.(map[string]any); ok {
			fields := jsonFields(t)
			for k := range m {
				if f, ok := fields[k]; ok {
					m[k] = coerce(m[k], f.Type)
				}
			}
		}
	}

	return v
}

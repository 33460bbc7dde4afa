package samtemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// The template chooses what a deployment gets with Conditions (which
// destination kind TEST and LIVE use, and so which policies and variables
// exist). The local stack evaluates them the way CloudFormation does,
// against the effective parameters, before anything else is resolved:
// a resource whose Condition is false is not created, Fn::If keeps its
// chosen branch, and a value of Ref AWS::NoValue is removed. Supported
// condition functions: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition.

// noValue marks a value to remove (Ref AWS::NoValue).
type noValue struct{}

// applyConditions returns the template (the JSON readRaw decodes) with its
// Conditions applied, or data unchanged when it has none.
//
// Errors: a condition that names an unknown condition or parameter,
// refers to itself, or uses a function other than the supported ones; an
// Fn::If or a resource Condition naming an unknown condition.
func applyConditions(data []byte, params map[string]string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("samtemplate: parse template: %w", err)
	}

	decl, _ := doc["Conditions"].(map[string]any)
	ev := &condEval{decl: decl, params: params, values: map[string]bool{}, busy: map[string]bool{}}

	for _, name := range slices.Sorted(maps.Keys(decl)) {
		if _, err := ev.condition(name); err != nil {
			return nil, err
		}
	}

	delete(doc, "Conditions")

	for _, section := range []string{"Resources", "Outputs"} {
		entries, _ := doc[section].(map[string]any)
		for id, e := range entries {
			entry, ok := e.(map[string]any)
			if !ok {
				continue
			}

			name, ok := entry["Condition"].(string)
			if !ok {
				continue
			}

			keep, err := ev.condition(name)
			if err != nil {
				return nil, fmt.Errorf("samtemplate: %s %s: %w", section, id, err)
			}

			delete(entry, "Condition")

			if !keep {
				delete(entries, id)
			}
		}
	}

	out, err := ev.walk(doc)
	if err != nil {
		return nil, err
	}

	return json.Marshal(out)
}

type condEval struct {
	decl   map[string]any
	params map[string]string
	values map[string]bool
	busy   map[string]bool
}

// condition is the value of the named condition.
func (e *condEval) condition(name string) (bool, error) {
	if v, ok := e.values[name]; ok {
		return v, nil
	}

	expr, ok := e.decl[name]
	if !ok {
		return false, fmt.Errorf("samtemplate: condition %s is not declared", name)
	}

	if e.busy[name] {
		return false, fmt.Errorf("samtemplate: condition %s refers to itself", name)
	}

	e.busy[name] = true
	v, err := e.eval(expr)
	e.busy[name] = false

	if err != nil {
		return false, fmt.Errorf("samtemplate: condition %s: %w", name, err)
	}

	e.values[name] = v

	return v, nil
}

// eval evaluates a condition function.
func (e *condEval) eval(expr any) (bool, error) {
	// goformation writes !Condition X inside Fn::And/Or/Not as "X".
	if name, ok := expr.(string); ok {
		return e.condition(name)
	}

	fn, args, ok := single(expr)
	if !ok {
		return false, fmt.Errorf("%v is not a condition function", expr)
	}

	list, _ := args.([]any)

	switch fn {
	case "Condition":
		name, ok := args.(string)
		if !ok {
			return false, fmt.Errorf("a Condition takes a name, not %v", args)
		}

		return e.condition(name)
	case "Fn::Equals":
		if len(list) != 2 {
			return false, fmt.Errorf("Fn::Equals takes two values, not %v", args)
		}

		a, err := e.scalar(list[0])
		if err != nil {
			return false, err
		}

		b, err := e.scalar(list[1])
		if err != nil {
			return false, err
		}

		return a == b, nil
	case "Fn::Not":
		if len(list) != 1 {
			return false, fmt.Errorf("Fn::Not takes one condition, not %v", args)
		}

		v, err := e.eval(list[0])

		return !v, err
	case "Fn::And", "Fn::Or":
		if len(list) < 2 {
			return false, fmt.Errorf("%s takes two conditions or more, not %v", fn, args)
		}

		and := fn == "Fn::And"
		for _, c := range list {
			v, err := e.eval(c)
			if err != nil {
				return false, err
			}

			if v != and {
				return v, nil
			}
		}

		return and, nil
	default:
		return false, fmt.Errorf("%s is not supported in a condition by the local stack", fn)
	}
}

// scalar is a value compared by Fn::Equals: a literal, or a parameter's.
func (e *condEval) scalar(v any) (string, error) {
	if fn, arg, ok := single(v); ok {
		name, isName := arg.(string)
		if fn != "Ref" || !isName {
			return "", fmt.Errorf("Fn::Equals compares literals and parameters, not %v", v)
		}

		p, ok := e.params[name]
		if !ok {
			return "", fmt.Errorf("Fn::Equals: no parameter %s", name)
		}

		return p, nil
	}

	if _, isMap := v.(map[string]any); isMap {
		return "", fmt.Errorf("Fn::Equals compares literals and parameters, not %v", v)
	}

	return scalarString(v), nil
}

// walk replaces every Fn::If by its chosen branch and removes every
// value of Ref AWS::NoValue.
func (e *condEval) walk(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if fn, args, ok := single(x); ok {
			switch {
			case fn == "Ref" && args == "AWS::NoValue":
				return noValue{}, nil
			case fn == "Fn::If":
				list, _ := args.([]any)

				var name string
				if len(list) == 3 {
					name, _ = list[0].(string)
				}

				if name == "" {
					return nil, fmt.Errorf("samtemplate: Fn::If takes a condition and two values, not %v", args)
				}

				c, err := e.condition(name)
				if err != nil {
					return nil, err
				}

				if c {
					return e.walk(list[1])
				}

				return e.walk(list[2])
			}
		}

		out := make(map[string]any, len(x))
		for k, val := range x {
			w, err := e.walk(val)
			if err != nil {
				return nil, err
			}

			if _, drop := w.(noValue); !drop {
				out[k] = w
			}
		}

		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, val := range x {
			w, err := e.walk(val)
			if err != nil {
				return nil, err
			}

			if _, drop := w.(noValue); !drop {
				out = append(out, w)
			}
		}

		return out, nil
	default:
		return v, nil
	}
}

// single returns the key and value of a one-key map (an intrinsic function).
func single(v any) (string, any, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, false
	}

	for k, val := range m {
		return k, val, true
	}

	return "", nil, false
}

package samtemplate

import (
	"fmt"
	"maps"
	"slices"
)

// Conditions: a template may declare Conditions over its parameters
// (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) and give a resource or
// an output a Condition; the local stack evaluates them against the
// effective parameters as CloudFormation does, leaves out what a false
// condition guards, and resolves Fn::If. A condition over anything but
// parameters and literals (a resource's attribute, which CloudFormation
// also refuses) is an error naming it.

// evalConditions evaluates every condition of the template.
func evalConditions(decl map[string]any, r *resolver) (map[string]bool, error) {
	out := make(map[string]bool, len(decl))
	evaluating := map[string]bool{}

	var cond func(name string) (bool, error)

	var eval func(where string, v any) (bool, error)

	value := func(where string, v any) (string, error) {
		switch x := v.(type) {
		case string:
			return x, nil
		case float64, bool:
			return scalarString(x), nil
		case map[string]any:
			if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
				if p, ok := r.params[ref]; ok {
					return p, nil
				}

				if s, ok := r.ref(ref); ok && r.types[ref] == "" {
					return s, nil // a pseudo parameter
				}
			}
		}

		return "", fmt.Errorf("samtemplate: condition %s: %v is not a parameter or a literal", where, v)
	}

	eval = func(where string, v any) (bool, error) {
		if name, ok := v.(string); ok {
			return cond(name) // goformation reads the YAML tag !Condition X as "X"
		}

		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return false, fmt.Errorf("samtemplate: condition %s: %v is not a condition function", where, v)
		}

		for fn, arg := range m {
			args, _ := arg.([]any)

			switch fn {
			case "Condition":
				name, ok := arg.(string)
				if !ok {
					return false, fmt.Errorf("samtemplate: condition %s: Condition %v is not a name", where, arg)
				}

				return cond(name)
			case "Fn::Equals":
				if len(args) != 2 {
					return false, fmt.Errorf("samtemplate: condition %s: Fn::Equals needs two values", where)
				}

				a, err := value(where, args[0])
				if err != nil {
					return false, err
				}

				b, err := value(where, args[1])
				if err != nil {
					return false, err
				}

				return a == b, nil
			case "Fn::Not":
				if len(args) != 1 {
					return false, fmt.Errorf("samtemplate: condition %s: Fn::Not needs one condition", where)
				}

				b, err := eval(where, args[0])

				return !b, err
			case "Fn::And", "Fn::Or":
				if len(args) < 2 {
					return false, fmt.Errorf("samtemplate: condition %s: %s needs at least two conditions", where, fn)
				}

				and := fn == "Fn::And"
				for _, a := range args {
					b, err := eval(where, a)
					if err != nil {
						return false, err
					}

					if b != and {
						return b, nil
					}
				}

				return and, nil
			}
		}

		return false, fmt.Errorf("samtemplate: condition %s: %v is not a condition function", where, v)
	}

	cond = func(name string) (bool, error) {
		if b, ok := out[name]; ok {
			return b, nil
		}

		expr, ok := decl[name]
		if !ok {
			return false, fmt.Errorf("samtemplate: condition %s is not declared in Conditions", name)
		}

		if evaluating[name] {
			return false, fmt.Errorf("samtemplate: condition %s refers to itself", name)
		}

		evaluating[name] = true
		b, err := eval(name, expr)
		evaluating[name] = false

		if err != nil {
			return false, err
		}

		out[name] = b

		return b, nil
	}

	for _, name := range slices.Sorted(maps.Keys(decl)) {
		if _, err := cond(name); err != nil {
			return nil, err
		}
	}

	return out, nil
}

// dropUnconditioned removes from the resolved template doc the resources
// and outputs whose Condition is false, and the Condition keys of the rest
// (goformation does not model them).
func dropUnconditioned(doc map[string]any, conds map[string]bool) {
	for _, section := range []string{"Resources", "Outputs"} {
		items, _ := doc[section].(map[string]any)
		for id, v := range items {
			item, _ := v.(map[string]any)
			if item == nil {
				continue
			}

			if name, ok := item["Condition"].(string); ok {
				if !conds[name] {
					delete(items, id)

					continue
				}

				delete(item, "Condition")
			}
		}
	}

	delete(doc, "Conditions")
}

// dropNoValue removes every value that resolved to Ref AWS::NoValue (nil
// after resolution) from the resources' maps and lists, as CloudFormation
// removes the property or element: a variable chosen by Fn::If with an
// AWS::NoValue branch is then not set at all, and a policy statement so
// chosen is not in the policy.
func dropNoValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNoValue(e)
		}
	case []any:
		out := x[:0]
		for _, e := range x {
			if e != nil {
				out = append(out, dropNoValue(e))
			}
		}
		return out
	}
	return v
}

// fnIf resolves Fn::If with the evaluated conditions.
func fnIf(conds map[string]bool) func(string, any, any) any {
	return func(_ string, in, _ any) any {
		args, ok := in.([]any)
		if !ok || len(args) != 3 {
			return unresolved("Fn::If %v", in)
		}

		name, _ := args[0].(string)

		b, ok := conds[name]
		if !ok {
			return unresolved("Fn::If on the undeclared condition %v", args[0])
		}

		if b {
			return args[1]
		}

		return args[2]
	}
}

package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// rawTemplate is the template before intrinsic functions are resolved.
type rawTemplate struct {
	Parameters map[string]cloudformation.Parameter `json:"Parameters"`
	Conditions map[string]any                      `json:"Conditions"`
	Resources  map[string]rawResource              `json:"Resources"`
	Globals    map[string]map[string]any           `json:"Globals"`
}

type rawResource struct {
	Type       string         `json:"Type"`
	Condition  string         `json:"Condition"`
	Metadata   map[string]any `json:"Metadata"`
	Properties map[string]any `json:"Properties"`
}

// Load reads the SAM template at path and resolves it for the local stack.
//
// It returns an error if the file cannot be read or parsed; if a parameter
// override names no template parameter or violates the parameter's
// constraints, or a parameter has neither a default nor an override; if a
// condition cannot be evaluated (see conditions.go); and if any value the
// model uses (an environment variable, a definition substitution, a key, a
// route, ...) cannot be resolved or describes something the local stack
// cannot build (for example a CodeUri in S3). The error names the resource
// and property.
func Load(path string, o Options) (*Model, error) {
	if o.StackName == "" {
		o.StackName = DefaultStackName
	}

	if o.Region == "" {
		o.Region = DefaultRegion
	}

	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}

	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("samtemplate: read template: %w", err)
	}

	raw, err := readRaw(data)
	if err != nil {
		return nil, err
	}

	params, paramTypes, err := effectiveParameters(raw.Parameters, o.Parameters)
	if err != nil {
		return nil, err
	}

	types := make(map[string]string, len(raw.Resources))
	for id, res := range raw.Resources {
		types[id] = res.Type
	}

	r := newResolver(o, params, paramTypes, types)

	if r.conds, err = evalConditions(raw.Conditions, r); err != nil {
		return nil, err
	}

	for id, res := range raw.Resources {
		if res.Condition == "" {
			continue
		}

		on, ok := r.conds[res.Condition]
		if !ok {
			return nil, fmt.Errorf("samtemplate: resource %s: condition %s is not declared in Conditions", id, res.Condition)
		}

		if !on { // left out, as CloudFormation leaves it out
			delete(raw.Resources, id)
			delete(types, id)
			delete(r.names, id)
			delete(r.arns, id)
		}
	}

	tpl, ignored, err := parseResolved(data, r)
	if err != nil {
		return nil, err
	}

	m := &Model{
		Path:       abs,
		Dir:        filepath.Dir(abs),
		StackName:  o.StackName,
		Region:     o.Region,
		AccountID:  o.AccountID,
		Parameters: params,
		Names:      r.names,
		ARNs:       r.arns,
		Types:      types,
		Ignored:    ignored,
		opts:       o,
	}

	build := []func(*cloudformation.Template, *rawTemplate) error{
		m.buildTables,
		m.buildBuckets,
		m.buildSecrets,
		m.buildStateMachines,
		m.buildFunctions,
		m.buildHTTPAPIs,
		m.buildSchedules,
		m.buildEvents,
	}

	for _, b := range build {
		if err := b(tpl, raw); err != nil {
			return nil, err
		}
	}

	return m, nil
}

// readRaw decodes the template without resolving intrinsic functions.
func readRaw(data []byte) (*rawTemplate, error) {
	goformationMu.Lock()
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	goformationMu.Unlock()

	if err != nil {
		return nil, fmt.Errorf("samtemplate: parse template: %w", err)
	}

	var raw rawTemplate
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("samtemplate: parse template: %w", err)
	}

	for id, res := range raw.Resources {
		if res.Type == "" {
			return nil, fmt.Errorf("samtemplate: resource %s has no Type", id)
		}
	}

	return &raw, nil
}

// effectiveParameters applies overrides to defaults and checks constraints.
func effectiveParameters(decl map[string]cloudformation.Parameter, overrides map[string]string) (values, types map[string]string, err error) {
	for name := range overrides {
		if _, ok := decl[name]; !ok {
			return nil, nil, fmt.Errorf("samtemplate: parameter override %s: the template has no such parameter", name)
		}
	}

	values = make(map[string]string, len(decl))
	types = make(map[string]string, len(decl))

	for _, name := range slices.Sorted(maps.Keys(decl)) {
		p := decl[name]
		types[name] = p.Type

		v, ok := overrides[name]
		if !ok {
			if p.Default == nil {
				return nil, nil, fmt.Errorf("samtemplate: parameter %s has no default and no override", name)
			}

			v = scalarString(p.Default)
		}

		if err := checkParameter(name, p, v); err != nil {
			return nil, nil, err
		}

		values[name] = v
	}

	return values, types, nil
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = scalarString(e)
		}

		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(x)
	}
}

func checkParameter(name string, p cloudformation.Parameter, v string) error {
	if len(p.AllowedValues) > 0 {
		allowed := false

		for _, a := range p.AllowedValues {
			if scalarString(a) == v {
				allowed = true

				break
			}
		}

		if !allowed {
			return fmt.Errorf("samtemplate: parameter %s=%q is not one of its AllowedValues", name, v)
		}
	}

	if p.Type == "Number" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("samtemplate: parameter %s=%q is not a number", name, v)
		}

		if p.MinValue != nil && n < *p.MinValue {
			return fmt.Errorf("samtemplate: parameter %s=%s is below MinValue %v", name, v, *p.MinValue)
		}

		if p.MaxValue != nil && n > *p.MaxValue {
			return fmt.Errorf("samtemplate: parameter %s=%s is above MaxValue %v", name, v, *p.MaxValue)
		}
	}

	if p.MinLength != nil && len(v) < *p.MinLength {
		return fmt.Errorf("samtemplate: parameter %s is shorter than MinLength %d", name, *p.MinLength)
	}

	if p.MaxLength != nil && len(v) > *p.MaxLength {
		return fmt.Errorf("samtemplate: parameter %s is longer than MaxLength %d", name, *p.MaxLength)
	}

	if p.AllowedPattern != nil {
		re, err := regexp.Compile("^(?:" + *p.AllowedPattern + ")$")
		if err != nil {
			return fmt.Errorf("samtemplate: parameter %s: bad AllowedPattern: %w", name, err)
		}

		if !re.MatchString(v) {
			return fmt.Errorf("samtemplate: parameter %s=%q does not match its AllowedPattern", name, v)
		}
	}

	return nil
}

func (m *Model) buildTables(tpl *cloudformation.Template, _ *rawTemplate) error {
	tables := tpl.GetAllDynamoDBTableResources()
	for _, id := range slices.Sorted(maps.Keys(tables)) {
		t, err := m.table(id, tables[id])
		if err != nil {
			return err
		}

		m.Tables = append(m.Tables, t)
	}

	return nil
}

func (m *Model) table(id string, src *dynamodb.Table) (Table, error) {
	t := Table{
		LogicalID:  id,
		Name:       m.Names[id],
		ARN:        m.ARNs[id],
		Attributes: map[string]string{},
	}

	for _, a := range src.AttributeDefinitions {
		t.Attributes[a.AttributeName] = a.AttributeType
	}

	hash, rng, err := keys(src.KeySchema)
	if err != nil {
		return t, fmt.Errorf("samtemplate: table %s: %w", id, err)
	}

	t.HashKey, t.RangeKey = hash, rng

	for _, g := range src.GlobalSecondaryIndexes {
		hash, rng, err := keys(g.KeySchema)
		if err != nil {
			return t, fmt.Errorf("samtemplate: table %s index %s: %w", id, g.IndexName, err)
		}

		ix := Index{Name: g.IndexName, HashKey: hash, RangeKey: rng, ProjectionType: "ALL"}
		if g.Projection != nil {
			if g.Projection.ProjectionType != nil {
				ix.ProjectionType = *g.Projection.ProjectionType
			}

			ix.NonKeyAttributes = g.Projection.NonKeyAttributes
		}

		t.GSIs = append(t.GSIs, ix)
	}

	for _, k := range t.keyAttributes() {
		if _, ok := t.Attributes[k]; !ok {
			return t, fmt.Errorf("samtemplate: table %s: key attribute %s has no AttributeDefinition", id, k)
		}
	}

	if ttl := src.TimeToLiveSpecification; ttl != nil && ttl.Enabled && ttl.AttributeName != nil {
		t.TTLAttribute = *ttl.AttributeName
	}

	t.BillingMode = "PROVISIONED"
	if src.BillingMode != nil {
		t.BillingMode = *src.BillingMode
	}

	if src.DeletionProtectionEnabled != nil {
		t.DeletionProtection = *src.DeletionProtectionEnabled
	}

	return t, nil
}

// keyAttributes lists the attributes used by the table's and its indexes' keys.
func (t Table) keyAttributes() []string {
	out := []string{t.HashKey}
	if t.RangeKey != "" {
		out = append(out, t.RangeKey)
	}

	for _, g := range t.GSIs {
		out = append(out, g.HashKey)
		if g.RangeKey != "" {
			out = append(out, g.RangeKey)
		}
	}

	return out
}

func keys(ks []dynamodb.Table_KeySchema) (hash, rng string, err error) {
	for _, k := range ks {
		switch k.KeyType {
		case "HASH":
			hash = k.AttributeName
		case "RANGE":
			rng = k.AttributeName
		default:
			return "", "", fmt.Errorf("unknown KeyType %q", k.KeyType)
		}
	}

	if hash == "" {
		return "", "", errors.New("KeySchema has no HASH key")
	}

	return hash, rng, nil
}

func (m *Model) buildBuckets(tpl *cloudformation.Template, _ *rawTemplate) error {
	buckets := tpl.GetAllS3BucketResources()
	for _, id := range slices.Sorted(maps.Keys(buckets)) {
		b, err := m.bucket(id, buckets[id])
		if err != nil {
			return err
		}

		m.Buckets = append(m.Buckets, b)
	}

	return nil
}

func (m *Model) bucket(id string, src *s3.Bucket) (Bucket, error) {
	b := Bucket{LogicalID: id, Name: m.Names[id], ARN: m.ARNs[id]}

	if c := src.CorsConfiguration; c != nil {
		for i, r := range c.CorsRules {
			rule := CORSRule{
				AllowedMethods: r.AllowedMethods,
				AllowedOrigins: r.AllowedOrigins,
				AllowedHeaders: r.AllowedHeaders,
				ExposedHeaders: r.ExposedHeaders,
			}

			if r.Id != nil {
				rule.ID = *r.Id
			}

			if r.MaxAge != nil {
				rule.MaxAgeSeconds = *r.MaxAge
			}

			for _, o := range rule.AllowedOrigins {
				if err := checkResolved(fmt.Sprintf("bucket %s CorsRules[%d] AllowedOrigins", id, i), o); err != nil {
					return b, fmt.Errorf("samtemplate: %w", err)
				}
			}

			b.CORS = append(b.CORS, rule)
		}
	}

	if l := src.LifecycleConfiguration; l != nil {
		for _, r := range l.Rules {
			rule := LifecycleRule{Enabled: r.Status == "Enabled"}
			if r.Id != nil {
				rule.ID = *r.Id
			}

			if r.Prefix != nil {
				rule.Prefix = *r.Prefix
			}

			if r.AbortIncompleteMultipartUpload != nil {
				rule.AbortIncompleteMultipartUploadDays = r.AbortIncompleteMultipartUpload.DaysAfterInitiation
			}

			if r.ExpirationInDays != nil {
				rule.ExpirationDays = *r.ExpirationInDays
			}

			b.Lifecycle = append(b.Lifecycle, rule)
		}
	}

	if p := src.PublicAccessBlockConfiguration; p != nil {
		b.PublicAccessBlock = &PublicAccessBlock{
			BlockPublicAcls:       deref(p.BlockPublicAcls),
			BlockPublicPolicy:     deref(p.BlockPublicPolicy),
			IgnorePublicAcls:      deref(p.IgnorePublicAcls),
			RestrictPublicBuckets: deref(p.RestrictPublicBuckets),
		}
	}

	if e := src.BucketEncryption; e != nil {
		for _, r := range e.ServerSideEncryptionConfiguration {
			rule := EncryptionRule{BucketKeyEnabled: deref(r.BucketKeyEnabled)}
			if d := r.ServerSideEncryptionByDefault; d != nil {
				rule.Algorithm = d.SSEAlgorithm
				rule.KMSMasterKeyID = deref(d.KMSMasterKeyID)
			}

			b.Encryption = append(b.Encryption, rule)
		}
	}

	if oc := src.OwnershipControls; oc != nil && len(oc.Rules) > 0 {
		b.ObjectOwnership = deref(oc.Rules[0].ObjectOwnership)
	}

	return b, nil
}

func (m *Model) buildSecrets(tpl *cloudformation.Template, _ *rawTemplate) error {
	secrets := tpl.GetAllSecretsManagerSecretResources()
	for _, id := range slices.Sorted(maps.Keys(secrets)) {
		src := secrets[id]
		s := Secret{
			LogicalID:   id,
			Name:        m.Names[id],
			ARN:         m.ARNs[id],
			Description: deref(src.Description),
			Value:       deref(src.SecretString),
		}

		if g := src.GenerateSecretString; g != nil {
			s.Generate = &GenerateSecret{
				Length:             32,
				ExcludePunctuation: deref(g.ExcludePunctuation),
				ExcludeCharacters:  deref(g.ExcludeCharacters),
				ExcludeNumbers:     deref(g.ExcludeNumbers),
				ExcludeUppercase:   deref(g.ExcludeUppercase),
				ExcludeLowercase:   deref(g.ExcludeLowercase),
				IncludeSpace:       deref(g.IncludeSpace),
			}

			if g.PasswordLength != nil {
				s.Generate.Length = *g.PasswordLength
			}

			if g.SecretStringTemplate != nil || g.GenerateStringKey != nil {
				return fmt.Errorf("samtemplate: secret %s: SecretStringTemplate/GenerateStringKey are not supported by the local stack", id)
			}
		}

		if err := checkResolved("secret "+id+" SecretString", s.Value); err != nil {
			return fmt.Errorf("samtemplate: %w", err)
		}

		m.Secrets = append(m.Secrets, s)
	}

	return nil
}

func (m *Model) buildStateMachines(tpl *cloudformation.Template, _ *rawTemplate) error {
	machines := tpl.GetAllServerlessStateMachineResources()
	for _, id := range slices.Sorted(maps.Keys(machines)) {
		src := machines[id]
		sm := StateMachine{
			LogicalID:     id,
			Name:          m.Names[id],
			ARN:           m.ARNs[id],
			Type:          "STANDARD",
			Substitutions: src.DefinitionSubstitutions,
		}

		if src.Type != nil {
			sm.Type = *src.Type
		}

		switch {
		case src.DefinitionUri != nil && src.DefinitionUri.String != nil:
			sm.DefinitionPath = filepath.Join(m.Dir, filepath.FromSlash(*src.DefinitionUri.String))
		case src.DefinitionUri != nil:
			return fmt.Errorf("samtemplate: state machine %s: a DefinitionUri in S3 is not supported by the local stack", id)
		default:
			return fmt.Errorf("samtemplate: state machine %s: only DefinitionUri (a local file) is supported by the local stack", id)
		}

		for _, k := range slices.Sorted(maps.Keys(sm.Substitutions)) {
			if err := checkResolved(fmt.Sprintf("state machine %s DefinitionSubstitutions.%s", id, k), sm.Substitutions[k]); err != nil {
				return fmt.Errorf("samtemplate: %w", err)
			}
		}

		m.StateMachines = append(m.StateMachines, sm)
	}

	return nil
}

// substitutionRef matches ${Name} placeholders in a state machine definition.
var substitutionRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// Definition reads the state machine's definition file and replaces every
// ${Name} with its DefinitionSubstitution. It returns an error if the file
// cannot be read, if a placeholder has no substitution, or if the result is
// not valid JSON.
func (s StateMachine) Definition() (string, error) {
	data, err := os.ReadFile(s.DefinitionPath)
	if err != nil {
		return "", fmt.Errorf("samtemplate: state machine %s: %w", s.LogicalID, err)
	}

	var missing []string

	out := substitutionRef.ReplaceAllStringFunc(string(data), func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := s.Substitutions[name]; ok {
			return v
		}

		missing = append(missing, name)

		return m
	})

	if len(missing) > 0 {
		return "", fmt.Errorf("samtemplate: state machine %s: no DefinitionSubstitution for %s", s.LogicalID, strings.Join(missing, ", "))
	}

	if !json.Valid([]byte(out)) {
		return "", fmt.Errorf("samtemplate: state machine %s: definition is not valid JSON", s.LogicalID)
	}

	return out, nil
}

func (m *Model) buildFunctions(tpl *cloudformation.Template, raw *rawTemplate) error {
	glob, err := tpl.GetServerlessGlobalFunction()
	if err != nil {
		glob = nil
	}

	fns := tpl.GetAllServerlessFunctionResources()
	for _, id := range slices.Sorted(maps.Keys(fns)) {
		f, err := m.function(id, fns[id], glob)
		if err != nil {
			return err
		}

		if method, ok := raw.Resources[id].Metadata["BuildMethod"]; ok {
			s, isString := method.(string)
			if !isString {
				return fmt.Errorf("samtemplate: function %s: Metadata BuildMethod must be a string", id)
			}

			f.BuildMethod = s
		}

		m.Functions = append(m.Functions, f)
	}

	return nil
}

func (m *Model) function(id string, src *serverless.Function, glob *globalFunction) (Function, error) {
	f := Function{
		LogicalID:   id,
		Name:        m.Names[id],
		ARN:         m.ARNs[id],
		Description: deref(src.Description),
		Timeout:     3,
		MemorySize:  128,
		Environment: map[string]string{},
	}

	codeURI := src.CodeUri

	if glob != nil {
		if codeURI == nil {
			codeURI = glob.CodeUri
		}

		f.Handler = deref(glob.Handler)
		f.Runtime = deref(glob.Runtime)

		if glob.Timeout != nil {
			f.Timeout = *glob.Timeout
		}

		if glob.MemorySize != nil {
			f.MemorySize = *glob.MemorySize
		}

		if glob.Environment != nil {
			for k, v := range glob.Environment.Variables {
				f.Environment[k] = v
			}
		}
	}

	if src.Handler != nil {
		f.Handler = *src.Handler
	}

	if src.Runtime != nil {
		f.Runtime = *src.Runtime
	}

	if src.Timeout != nil {
		f.Timeout = *src.Timeout
	}

	if src.MemorySize != nil {
		f.MemorySize = *src.MemorySize
	}

	if src.Environment != nil {
		for k, v := range src.Environment.Variables {
			f.Environment[k] = v
		}
	}

	switch {
	case codeURI != nil && codeURI.String != nil:
		f.CodeDir = filepath.Join(m.Dir, filepath.FromSlash(*codeURI.String))
	case src.InlineCode != nil || src.ImageUri != nil:
		return f, fmt.Errorf("samtemplate: function %s: InlineCode/ImageUri functions are not supported by the local stack", id)
	default:
		return f, fmt.Errorf("samtemplate: function %s: needs a local CodeUri directory", id)
	}

	for _, k := range slices.Sorted(maps.Keys(f.Environment)) {
		if err := checkResolved(fmt.Sprintf("function %s environment variable %s", id, k), f.Environment[k]); err != nil {
			return f, fmt.Errorf("samtemplate: %w", err)
		}
	}

	return f, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}

	return *p
}

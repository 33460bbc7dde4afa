// Package samtemplate reads the project's SAM template (template.yaml) and
// turns it into a local model: the parameters, tables, buckets, secrets,
// state machines, HTTP APIs, functions and their schedules the template
// declares, with every intrinsic function (!Ref, !GetAtt, !Sub, ...) resolved against the local
// physical names the local stack gives those resources.
//
// Locally a resource's physical name is "<stackName>-<LogicalId>" (bucket
// names are lower-cased) and ARNs use the region and account the local
// emulator (kumo) uses: us-east-1 and 000000000000. Identifiers the emulator
// assigns itself (a Secrets Manager secret's random ARN suffix, an HTTP API's
// id) are learnt at provisioning time and fed back with Model.Bind.
//
// The template is parsed with goformation (github.com/awslabs/goformation/v7).
// goformation rejects SAM properties it does not know yet (for example a
// function's LoggingConfig or an HttpApi's AccessLogSettings); those are
// dropped before goformation sees them and listed in Model.Ignored, so a
// reader can tell what the local stack does not reproduce.
package samtemplate

import (
	"fmt"
	"strings"
)

// Defaults used for the local stack.
const (
	DefaultStackName = "cutover"
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// Options selects how a template is resolved.
type Options struct {
	// StackName prefixes every physical name; empty means DefaultStackName.
	StackName string
	// Region and AccountID appear in ARNs; empty means the kumo defaults.
	Region    string
	AccountID string
	// Parameters override template parameter defaults, by parameter name.
	Parameters map[string]string
	// Bindings are identifiers the emulator assigned at provisioning time,
	// by logical id. They win over the locally derived names and ARNs.
	Bindings map[string]Binding
}

// Binding is an identifier the emulator assigned to a resource. Empty fields
// keep the locally derived value.
type Binding struct {
	// Name is the value !Ref yields for resources whose Ref is a name or an
	// id (for an HTTP API: its api id).
	Name string
	// ARN is the resource's ARN (for a secret, also what !Ref yields).
	ARN string
}

// Model is the resolved content of a SAM template as the local stack builds it.
type Model struct {
	// Path is the template file; Dir is the directory relative paths in the
	// template (CodeUri, DefinitionUri) are resolved against.
	Path string
	Dir  string

	StackName string
	Region    string
	AccountID string

	// Parameters holds every template parameter's effective value (the
	// override, else the template default).
	Parameters map[string]string

	Tables        []Table
	Buckets       []Bucket
	Secrets       []Secret
	StateMachines []StateMachine
	HTTPAPIs      []HTTPAPI
	Functions     []Function
	// Schedules are the functions' Schedule events.
	Schedules []Schedule
	// The EventBridge resources (events.go): buses, and the API
	// destinations that rules on them deliver to.
	EventBuses      []EventBus
	Connections     []Connection
	APIDestinations []APIDestination
	Rules           []Rule

	// Names maps logical id to physical name (or id) for every resource.
	Names map[string]string
	// ARNs maps logical id to ARN for resources that have one.
	ARNs map[string]string
	// Types maps logical id to resource type.
	Types map[string]string

	// Ignored lists "LogicalId.Property" entries present in the template
	// that the parser does not model and the local stack therefore does not
	// reproduce, sorted.
	Ignored []string

	opts Options
}

// Table is a DynamoDB table.
type Table struct {
	LogicalID string
	Name      string
	ARN       string
	// Attributes maps attribute name to type (S, N or B) for the attributes
	// the table defines.
	Attributes map[string]string
	HashKey    string
	RangeKey   string // empty for a hash-only key
	GSIs       []Index
	// TTLAttribute is the time-to-live attribute when TTL is enabled.
	TTLAttribute       string
	BillingMode        string
	DeletionProtection bool
}

// Index is a global secondary index.
type Index struct {
	Name             string
	HashKey          string
	RangeKey         string
	ProjectionType   string
	NonKeyAttributes []string
}

// Bucket is an S3 bucket.
type Bucket struct {
	LogicalID         string
	Name              string
	ARN               string
	CORS              []CORSRule
	Lifecycle         []LifecycleRule
	PublicAccessBlock *PublicAccessBlock
	Encryption        []EncryptionRule
	// ObjectOwnership is the OwnershipControls rule, if any.
	ObjectOwnership string
}

// CORSRule is one bucket CORS rule.
type CORSRule struct {
	ID             string
	AllowedMethods []string
	AllowedOrigins []string
	AllowedHeaders []string
	ExposedHeaders []string
	MaxAgeSeconds  int
}

// LifecycleRule is one bucket lifecycle rule. Zero day counts mean the
// action is absent.
type LifecycleRule struct {
	ID                                 string
	Enabled                            bool
	Prefix                             string
	AbortIncompleteMultipartUploadDays int
	ExpirationDays                     int
}

// PublicAccessBlock is a bucket's public access block configuration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool
	BlockPublicPolicy     bool
	IgnorePublicAcls      bool
	RestrictPublicBuckets bool
}

// EncryptionRule is a default server-side encryption rule.
type EncryptionRule struct {
	Algorithm        string
	KMSMasterKeyID   string
	BucketKeyEnabled bool
}

// Secret is a Secrets Manager secret.
type Secret struct {
	LogicalID   string
	Name        string
	ARN         string
	Description string
	// Generate describes the generated value; nil when the template gives a
	// literal SecretString instead.
	Generate *GenerateSecret
	// Value is the literal SecretString, if any.
	Value string
}

// GenerateSecret is a secret's GenerateSecretString.
type GenerateSecret struct {
	Length             int
	ExcludePunctuation bool
	ExcludeCharacters  string
	ExcludeNumbers     bool
	ExcludeUppercase   bool
	ExcludeLowercase   bool
	IncludeSpace       bool
}

// StateMachine is a Step Functions state machine.
type StateMachine struct {
	LogicalID string
	Name      string
	ARN       string
	Type      string // STANDARD or EXPRESS
	// DefinitionPath is the absolute path of the DefinitionUri file.
	DefinitionPath string
	// Substitutions are the resolved DefinitionSubstitutions.
	Substitutions map[string]string
}

// HTTPAPI is an API Gateway HTTP API with the routes its functions declare.
type HTTPAPI struct {
	LogicalID string
	// Name is the API's name; ID is the api id the emulator assigned, empty
	// until it is bound (see Model.Bind).
	Name        string
	ID          string
	Authorizers []JWTAuthorizer
	CORS        *APICORS
	Routes      []Route
}

// JWTAuthorizer is an HTTP API JWT authorizer.
type JWTAuthorizer struct {
	Name            string
	IdentitySources []string
	Issuer          string
	Audience        []string
}

// APICORS is an HTTP API's CORS configuration.
type APICORS struct {
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAgeSeconds    int
	AllowCredentials bool
}

// Route is one HttpApi event of a function.
type Route struct {
	Method string // upper case; ANY for any method
	Path   string
	// Function is the logical id of the function the route invokes.
	Function string
	// Event is the event's name in the function's Events.
	Event string
	// Authorizer is the authorizer name, or empty for an open route.
	Authorizer           string
	PayloadFormatVersion string
}

// RouteKey is the API Gateway route key, e.g. "GET /migrations/{id}".
func (r Route) RouteKey() string {
	return r.Method + " " + r.Path
}

// Function is a Lambda function.
type Function struct {
	LogicalID string
	Name      string
	ARN       string
	// CodeDir is the absolute directory of the function's CodeUri.
	CodeDir     string
	Handler     string
	Runtime     string
	Description string
	// BuildMethod is the resource's Metadata BuildMethod: how `sam build`
	// builds it ("makefile": SAM runs the target build-<LogicalID> of the
	// Makefile in CodeDir). Empty when the template names none.
	BuildMethod string
	// Timeout is in seconds and MemorySize in MB, with Globals applied.
	Timeout    int
	MemorySize int
	// Environment is Globals' variables overlaid with the function's own,
	// every value resolved.
	Environment map[string]string
}

// Function returns the function with the given logical id.
func (m *Model) Function(logicalID string) (Function, bool) {
	for _, f := range m.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}

	return Function{}, false
}

// Bind resolves the template again with the given emulator-assigned
// identifiers added to the model's existing ones, and returns the new model.
// It returns the same errors Load does.
func (m *Model) Bind(b map[string]Binding) (*Model, error) {
	o := m.opts
	merged := make(map[string]Binding, len(o.Bindings)+len(b))

	for k, v := range o.Bindings {
		merged[k] = v
	}

	for k, v := range b {
		merged[k] = v
	}

	o.Bindings = merged

	return Load(m.Path, o)
}

// unresolvedPrefix marks a value an intrinsic function could not resolve.
// Load fails if such a value ends up anywhere the model uses.
const unresolvedPrefix = "<unresolved: "

func unresolved(format string, args ...any) string {
	return unresolvedPrefix + fmt.Sprintf(format, args...) + ">"
}

// checkResolved returns an error naming where if v holds an unresolved value.
func checkResolved(where, v string) error {
	if i := strings.Index(v, unresolvedPrefix); i >= 0 {
		end := strings.Index(v[i:], ">")
		if end < 0 {
			end = len(v) - i - 1
		}

		return fmt.Errorf("%s: cannot resolve %s", where, strings.TrimPrefix(v[i:i+end], unresolvedPrefix))
	}

	return nil
}

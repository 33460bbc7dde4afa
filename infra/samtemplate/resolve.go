package samtemplate

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// resolver resolves intrinsic functions against the local stack's names.
type resolver struct {
	stack, region, account string

	params     map[string]string
	paramTypes map[string]string
	types      map[string]string // logical id -> resource type

	names map[string]string
	arns  map[string]string

	conds map[string]bool // the template's conditions, evaluated
}

func newResolver(o Options, params, paramTypes, types map[string]string) *resolver {
	r := &resolver{
		stack:      o.StackName,
		region:     o.Region,
		account:    o.AccountID,
		params:     params,
		paramTypes: paramTypes,
		types:      types,
		names:      map[string]string{},
		arns:       map[string]string{},
	}

	for id, typ := range types {
		name := o.StackName + "-" + id
		if typ == "AWS::S3::Bucket" {
			name = strings.ToLower(name)
		}

		if typ != typeHTTPAPI {
			r.names[id] = name
		}

		if arn := r.localARN(typ, name); arn != "" {
			r.arns[id] = arn
		}

		if b, ok := o.Bindings[id]; ok {
			if b.Name != "" {
				r.names[id] = b.Name
			}

			if b.ARN != "" {
				r.arns[id] = b.ARN
			}
		}
	}

	return r
}

// Resource types the model knows by name.
const (
	typeFunction     = "AWS::Serverless::Function"
	typeStateMachine = "AWS::Serverless::StateMachine"
	typeHTTPAPI      = "AWS::Serverless::HttpApi"
	typeTable        = "AWS::DynamoDB::Table"
	typeBucket       = "AWS::S3::Bucket"
	typeSecret       = "AWS::SecretsManager::Secret"
	typeLogGroup     = "AWS::Logs::LogGroup"
	typeTopic        = "AWS::SNS::Topic"
	typeQueue        = "AWS::SQS::Queue"

	typeEventBus       = "AWS::Events::EventBus"
	typeConnection     = "AWS::Events::Connection"
	typeAPIDestination = "AWS::Events::ApiDestination"
	typeRule           = "AWS::Events::Rule"
	typeRole           = "AWS::IAM::Role"
)

// localARN is the ARN kumo gives a resource of type typ named name, or ""
// when the type has no ARN or kumo assigns part of it (a secret's random
// suffix: the partial ARN returned here is accepted by GetSecretValue on
// both kumo and AWS until the real one is bound).
func (r *resolver) localARN(typ, name string) string {
	switch typ {
	case typeFunction, "AWS::Lambda::Function":
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.region, r.account, name)
	case typeStateMachine, "AWS::StepFunctions::StateMachine":
		return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", r.region, r.account, name)
	case typeTable:
		return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", r.region, r.account, name)
	case typeBucket:
		return "arn:aws:s3:::" + name
	case typeSecret:
		return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s", r.region, r.account, name)
	case typeLogGroup:
		return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", r.region, r.account, name)
	case typeTopic:
		return fmt.Sprintf("arn:aws:sns:%s:%s:%s", r.region, r.account, name)
	case typeQueue:
		return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", r.region, r.account, name)
	case typeEventBus:
		return fmt.Sprintf("arn:aws:events:%s:%s:event-bus/%s", r.region, r.account, name)
	case typeConnection:
		return fmt.Sprintf("arn:aws:events:%s:%s:connection/%s", r.region, r.account, name)
	case typeAPIDestination:
		return fmt.Sprintf("arn:aws:events:%s:%s:api-destination/%s", r.region, r.account, name)
	case typeRole:
		return fmt.Sprintf("arn:aws:iam::%s:role/%s", r.account, name)
	default:
		return ""
	}
}

// handlers returns goformation intrinsic handler overrides bound to r.
func (r *resolver) handlers() map[string]intrinsics.IntrinsicHandler {
	return map[string]intrinsics.IntrinsicHandler{
		"Ref":        func(_ string, in, _ any) any { return r.refValue(in) },
		"Fn::GetAtt": func(_ string, in, _ any) any { return r.getAttValue(in) },
		"Fn::Sub":    func(_ string, in, _ any) any { return r.sub(in) },
		"Fn::If":     fnIf(r.conds),
		"Fn::ImportValue": func(_ string, in, _ any) any {
			return unresolved("Fn::ImportValue %v", in)
		},
		"Fn::GetAZs": func(_ string, _, _ any) any {
			return []any{r.region + "a", r.region + "b", r.region + "c"}
		},
	}
}

func (r *resolver) refValue(in any) any {
	name, ok := in.(string)
	if !ok {
		return unresolved("Ref %v", in)
	}

	if v, ok := r.params[name]; ok {
		t := r.paramTypes[name]
		if t == "CommaDelimitedList" || strings.HasPrefix(t, "List<") {
			parts := strings.Split(v, ",")
			out := make([]any, len(parts))

			for i, p := range parts {
				out[i] = strings.TrimSpace(p)
			}

			return out
		}

		return v
	}

	switch name {
	case "AWS::NoValue":
		return nil
	case "AWS::NotificationARNs":
		return []any{}
	}

	s, ok := r.ref(name)
	if !ok {
		return unresolved("Ref %s", name)
	}

	return s
}

// ref resolves a Ref to a string: pseudo parameters, parameters and resources.
func (r *resolver) ref(name string) (string, bool) {
	switch name {
	case "AWS::Region":
		return r.region, true
	case "AWS::AccountId":
		return r.account, true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::StackName":
		return r.stack, true
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", r.region, r.account, r.stack), true
	}

	if v, ok := r.params[name]; ok {
		return v, true
	}

	typ, ok := r.types[name]
	if !ok {
		return "", false
	}

	switch typ {
	case typeSecret, typeStateMachine, "AWS::StepFunctions::StateMachine", typeTopic:
		v, ok := r.arns[name]

		return v, ok
	default:
		v, ok := r.names[name]

		return v, ok
	}
}

func (r *resolver) getAttValue(in any) any {
	var id, attr string

	switch v := in.(type) {
	case string:
		id, attr, _ = strings.Cut(v, ".")
	case []any:
		if len(v) == 2 {
			id, _ = v[0].(string)
			attr, _ = v[1].(string)
		}
	}

	s, ok := r.getAtt(id, attr)
	if !ok {
		return unresolved("Fn::GetAtt %s.%s", id, attr)
	}

	return s
}

// getAtt resolves the attributes the local stack can name.
func (r *resolver) getAtt(id, attr string) (string, bool) {
	typ, ok := r.types[id]
	if !ok {
		return "", false
	}

	switch {
	case attr == "Arn" || (typ == typeTopic && attr == "TopicArn"):
		v, ok := r.arns[id]

		return v, ok
	case attr == "Name" || attr == "TopicName" || attr == "QueueName":
		v, ok := r.names[id]

		return v, ok
	case typ == typeBucket && attr == "DomainName":
		return r.names[id] + ".s3.amazonaws.com", true
	case typ == typeBucket && attr == "RegionalDomainName":
		return r.names[id] + ".s3." + r.region + ".amazonaws.com", true
	default:
		return "", false
	}
}

// subVar matches ${...} in Fn::Sub strings.
var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub implements Fn::Sub in both its string and [string, map] forms.
func (r *resolver) sub(in any) any {
	var (
		src  string
		vars map[string]any
	)

	switch v := in.(type) {
	case string:
		src = v
	case []any:
		if len(v) != 2 {
			return unresolved("Fn::Sub %v", in)
		}

		s, ok1 := v[0].(string)
		m, ok2 := v[1].(map[string]any)

		if !ok1 || !ok2 {
			return unresolved("Fn::Sub %v", in)
		}

		src, vars = s, m
	default:
		return unresolved("Fn::Sub %v", in)
	}

	return subVar.ReplaceAllStringFunc(src, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}

		if v, ok := vars[name]; ok {
			if s, ok := v.(string); ok {
				return s
			}

			return unresolved("Fn::Sub variable %s", name)
		}

		if id, attr, ok := strings.Cut(name, "."); ok {
			if s, ok := r.getAtt(id, attr); ok {
				return s
			}

			return unresolved("Fn::Sub ${%s}", name)
		}

		if s, ok := r.ref(name); ok {
			return s
		}

		return unresolved("Fn::Sub ${%s}", name)
	})
}

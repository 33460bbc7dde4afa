package samtemplate

import (
	"strings"
	"testing"
)

// A condition over the parameters leaves out what it guards when false,
// as CloudFormation does, and Fn::If picks by it; the EventBridge
// resources it guards are modelled when true.
func TestConditionsGuardResources(t *testing.T) {
	path := writeTemplate(t, `Transform: AWS::Serverless-2016-10-31
Parameters:
  Url: { Type: String, Default: "" }
Conditions:
  Subscribe: !Not [!Equals [!Ref Url, ""]]
  Both: !And [!Condition Subscribe, !Equals [a, a]]
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: { Name: !Sub "${AWS::StackName}-Bus" }
  Conn:
    Type: AWS::Events::Connection
    Condition: Subscribe
    Properties:
      AuthorizationType: API_KEY
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: X-Key, ApiKeyValue: !If [Both, k, nope] } }
  Dest:
    Type: AWS::Events::ApiDestination
    Condition: Subscribe
    Properties: { ConnectionArn: !GetAtt Conn.Arn, InvocationEndpoint: !Ref Url, HttpMethod: POST }
  Rule:
    Type: AWS::Events::Rule
    Condition: Subscribe
    Properties:
      EventBusName: !Ref Bus
      EventPattern: { source: [cutover] }
      Targets: [{ Id: d, Arn: !GetAtt Dest.Arn }]
`)
	off, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(off.EventBuses) != 1 || len(off.Connections)+len(off.APIDestinations)+len(off.Rules) != 0 || off.Types["Conn"] != "" {
		t.Fatalf("without a URL: buses %v, connections %v, destinations %v, rules %v", off.EventBuses, off.Connections, off.APIDestinations, off.Rules)
	}
	on, err := Load(path, Options{Parameters: map[string]string{"Url": "http://127.0.0.1:9/events"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(on.Connections) != 1 || on.Connections[0].APIKeyValue != "k" || on.Connections[0].APIKeyName != "X-Key" {
		t.Fatalf("connections = %+v", on.Connections)
	}
	if len(on.APIDestinations) != 1 || on.APIDestinations[0].ConnectionARN != on.Connections[0].ARN || on.APIDestinations[0].Endpoint != "http://127.0.0.1:9/events" {
		t.Fatalf("destinations = %+v", on.APIDestinations)
	}
	r := on.Rules
	if len(r) != 1 || r[0].EventBusName != "cutover-Bus" || r[0].Pattern != `{"source":["cutover"]}` || len(r[0].Targets) != 1 || r[0].Targets[0].ARN != on.APIDestinations[0].ARN {
		t.Fatalf("rules = %+v", r)
	}
}

// conditionsTemplate chooses a topic and a function variable by a
// parameter, the way template.yaml chooses destinations.
const conditionsTemplate = `Transform: AWS::Serverless-2016-10-31
Parameters:
  Kind: { Type: String, Default: builtin, AllowedValues: [builtin, https, s3] }
  Url: { Type: String, Default: "" }
Conditions:
  IsHttps: !Equals [!Ref Kind, https]
  IsS3: !Equals [!Ref Kind, s3]
  IsExternal: !Or [!Condition IsHttps, !Condition IsS3]
  IsBuiltin: !Not [!Condition IsExternal]
  HttpsWithUrl: !And [!Condition IsHttps, !Not [!Equals [!Ref Url, ""]]]
Resources:
  OnlyHttps:
    Type: AWS::SNS::Topic
    Condition: IsHttps
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Environment:
        Variables:
          KIND: !If [IsBuiltin, builtin, !Ref Kind]
          URL: !If [HttpsWithUrl, !Ref Url, !Ref AWS::NoValue]
          TOPIC: !If [IsHttps, !Ref OnlyHttps, none]
`

func TestConditionsChooseResourcesAndValues(t *testing.T) {
	cases := []struct {
		params           map[string]string
		wantTopic        bool
		kind, url, topic string
		urlSet           bool
	}{
		{params: nil, kind: "builtin", topic: "none"},
		{params: map[string]string{"Kind": "s3"}, kind: "s3", topic: "none"},
		{params: map[string]string{"Kind": "https", "Url": "https://x.test"}, wantTopic: true, kind: "https", url: "https://x.test", urlSet: true},
		{params: map[string]string{"Kind": "https"}, wantTopic: true, kind: "https"},
	}
	for _, c := range cases {
		m, err := Load(writeTemplate(t, conditionsTemplate), Options{Parameters: c.params})
		if err != nil {
			t.Fatalf("%v: %v", c.params, err)
		}
		_, hasTopic := m.Types["OnlyHttps"]
		if hasTopic != c.wantTopic {
			t.Errorf("%v: topic present %v, want %v", c.params, hasTopic, c.wantTopic)
		}
		env := m.Functions[0].Environment
		if env["KIND"] != c.kind {
			t.Errorf("%v: KIND=%q, want %q", c.params, env["KIND"], c.kind)
		}
		url, ok := env["URL"]
		if ok != c.urlSet || url != c.url {
			t.Errorf("%v: URL=%q (set %v), want %q (set %v)", c.params, url, ok, c.url, c.urlSet)
		}
		if c.wantTopic && !strings.Contains(env["TOPIC"], "OnlyHttps") && env["TOPIC"] == "none" {
			t.Errorf("%v: TOPIC=%q, want the topic", c.params, env["TOPIC"])
		}
		if !c.wantTopic && env["TOPIC"] != "none" {
			t.Errorf("%v: TOPIC=%q, want none", c.params, env["TOPIC"])
		}
	}
}

func TestConditionErrorsNameTheCondition(t *testing.T) {
	cases := map[string]string{
		"cycle":      "Conditions:\n  A: !Condition B\n  B: !Condition A\nResources:\n  T: { Type: AWS::SNS::Topic, Condition: A }\n",
		"unknown":    "Resources:\n  T: { Type: AWS::SNS::Topic, Condition: Nope }\n",
		"bad if":     "Conditions:\n  A: !Equals [a, a]\nResources:\n  Fn: { Type: AWS::Serverless::Function, Properties: { CodeUri: fn/, Environment: { Variables: { X: !If [Nope, a, b] } } } }\n",
		"not a test": "Conditions:\n  A: !Ref Kind\nParameters:\n  Kind: { Type: String, Default: x }\nResources:\n  T: { Type: AWS::SNS::Topic, Condition: A }\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeTemplate(t, "Transform: AWS::Serverless-2016-10-31\n"+body), Options{})
			if err == nil {
				t.Fatal("Load succeeded")
			}
			t.Log(err)
		})
	}
}

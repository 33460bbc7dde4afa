package samtemplate

import (
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

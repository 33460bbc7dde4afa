package provision

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/cutover/cutover/infra/samtemplate"
)

// eventsRecorder records the EventBridge calls.
type eventsRecorder struct {
	buses   []*eventbridge.CreateEventBusInput
	conns   []*eventbridge.CreateConnectionInput
	dests   []*eventbridge.CreateApiDestinationInput
	rules   []*eventbridge.PutRuleInput
	targets []*eventbridge.PutTargetsInput
}

func (r *eventsRecorder) CreateEventBus(_ context.Context, in *eventbridge.CreateEventBusInput, _ ...func(*eventbridge.Options)) (*eventbridge.CreateEventBusOutput, error) {
	r.buses = append(r.buses, in)
	return &eventbridge.CreateEventBusOutput{}, nil
}

func (r *eventsRecorder) CreateConnection(_ context.Context, in *eventbridge.CreateConnectionInput, _ ...func(*eventbridge.Options)) (*eventbridge.CreateConnectionOutput, error) {
	r.conns = append(r.conns, in)
	return &eventbridge.CreateConnectionOutput{}, nil
}

func (r *eventsRecorder) CreateApiDestination(_ context.Context, in *eventbridge.CreateApiDestinationInput, _ ...func(*eventbridge.Options)) (*eventbridge.CreateApiDestinationOutput, error) {
	r.dests = append(r.dests, in)
	return &eventbridge.CreateApiDestinationOutput{}, nil
}

func (r *eventsRecorder) PutRule(_ context.Context, in *eventbridge.PutRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error) {
	r.rules = append(r.rules, in)
	return &eventbridge.PutRuleOutput{}, nil
}

func (r *eventsRecorder) PutTargets(_ context.Context, in *eventbridge.PutTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error) {
	r.targets = append(r.targets, in)
	return &eventbridge.PutTargetsOutput{}, nil
}

// The template's lifecycle bus is always provisioned; with the events URL
// and key set, the connection (its key never logged), the API destination
// and the rule on the bus targeting it are too.
func TestProvisionTheLifecycleEventsSubscription(t *testing.T) {
	for _, subscribe := range []bool{false, true} {
		params := map[string]string{}
		if subscribe {
			params = map[string]string{"LifecycleEventsUrl": "http://127.0.0.1:9/events", "LifecycleEventsApiKey": "key-that-must-not-be-logged"}
		}
		m, err := samtemplate.Load("../../template.yaml", samtemplate.Options{Parameters: params})
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		var log bytes.Buffer
		if _, err := fakeProvisioner(rec, &log).run(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		ev := rec.events
		if len(ev.buses) != 1 || aws.ToString(ev.buses[0].Name) != "cutover-LifecycleEventBus" {
			t.Fatalf("buses %+v", ev.buses)
		}
		if !subscribe {
			if len(ev.conns)+len(ev.dests)+len(ev.rules)+len(ev.targets) != 0 {
				t.Fatalf("subscribed without a URL: %+v", ev)
			}
			continue
		}
		if len(ev.conns) != 1 || aws.ToString(ev.conns[0].AuthParameters.ApiKeyAuthParameters.ApiKeyName) != "X-Cutover-Events-Key" ||
			aws.ToString(ev.conns[0].AuthParameters.ApiKeyAuthParameters.ApiKeyValue) != "key-that-must-not-be-logged" {
			t.Fatalf("connections %+v", ev.conns)
		}
		if len(ev.dests) != 1 || aws.ToString(ev.dests[0].InvocationEndpoint) != "http://127.0.0.1:9/events" || !strings.HasSuffix(aws.ToString(ev.dests[0].ConnectionArn), ":connection/cutover-LifecycleEventsConnection") {
			t.Fatalf("destinations %+v", ev.dests)
		}
		if len(ev.rules) != 1 || aws.ToString(ev.rules[0].EventBusName) != "cutover-LifecycleEventBus" || aws.ToString(ev.rules[0].EventPattern) != `{"source":["cutover"]}` {
			t.Fatalf("rules %+v", ev.rules)
		}
		if len(ev.targets) != 1 || !strings.HasSuffix(aws.ToString(ev.targets[0].Targets[0].Arn), ":api-destination/cutover-LifecycleEventsDestination") {
			t.Fatalf("targets %+v", ev.targets)
		}
		if strings.Contains(log.String(), "key-that-must-not-be-logged") {
			t.Fatal("the connection's key is in the log")
		}
	}
}

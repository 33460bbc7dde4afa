package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/cutover/cutover/infra/samtemplate"
)

// fireSchedules does locally what EventBridge does on AWS and kumo does not:
// it invokes each function with an enabled Schedule event in the template,
// every tick (the schedule's own rate unless tick is set), with a
// "Scheduled Event" payload, through kumo's Lambda Invoke. Invocations of
// one schedule do not overlap. It runs until ctx ends.
func (s *Stack) fireSchedules(ctx context.Context, m *samtemplate.Model, tick time.Duration) {
	client := lambda.NewFromConfig(aws.Config{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	for _, sc := range m.Schedules {
		if !sc.Enabled {
			continue
		}
		every := sc.Rate
		if tick > 0 {
			every = tick
		}
		s.log.InfoContext(ctx, "firing schedule locally", "function", sc.Function, "event", sc.Event, "schedule", sc.Expression, "every", every.String())
		s.scheduled.Add(1)
		go func() {
			defer s.scheduled.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					s.fire(ctx, client, m, sc, now)
				}
			}
		}()
	}
}

// fire invokes a schedule's function once and logs what came of it.
func (s *Stack) fire(ctx context.Context, client *lambda.Client, m *samtemplate.Model, sc samtemplate.Schedule, now time.Time) {
	payload, _ := json.Marshal(map[string]any{ // a map of strings always encodes
		"version":     "0",
		"id":          fmt.Sprintf("local-%s-%d", sc.Event, now.UnixNano()),
		"detail-type": "Scheduled Event",
		"source":      "aws.events",
		"account":     m.AccountID,
		"time":        now.UTC().Format(time.RFC3339),
		"region":      m.Region,
		"resources":   []string{fmt.Sprintf("arn:aws:events:%s:%s:rule/%s-%s-%s", m.Region, m.AccountID, m.StackName, sc.Function, sc.Event)},
		"detail":      map[string]any{},
	})
	name := m.Names[sc.Function]
	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: payload})
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.log.WarnContext(ctx, "scheduled invocation failed", "function", sc.Function, "event", sc.Event, "error", err.Error())
	case out.FunctionError != nil:
		s.log.WarnContext(ctx, "scheduled invocation returned an error", "function", sc.Function, "event", sc.Event, "payload", string(out.Payload))
	default:
		s.log.DebugContext(ctx, "scheduled invocation", "function", sc.Function, "event", sc.Event)
	}
}

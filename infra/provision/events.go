package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/cutover/cutover/infra/samtemplate"
)

type eventsAPI interface {
	CreateEventBus(context.Context, *eventbridge.CreateEventBusInput, ...func(*eventbridge.Options)) (*eventbridge.CreateEventBusOutput, error)
	CreateConnection(context.Context, *eventbridge.CreateConnectionInput, ...func(*eventbridge.Options)) (*eventbridge.CreateConnectionOutput, error)
	CreateApiDestination(context.Context, *eventbridge.CreateApiDestinationInput, ...func(*eventbridge.Options)) (*eventbridge.CreateApiDestinationOutput, error)
	PutRule(context.Context, *eventbridge.PutRuleInput, ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	PutTargets(context.Context, *eventbridge.PutTargetsInput, ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
}

// createEvents creates the template's event buses, connections, API
// destinations and rules with their targets, in that order (each names the
// one before). kumo delivers a rule's events to its API destination over
// HTTP, with the connection's API key header (infra/emulator's patch).
func (p *provisioner) createEvents(ctx context.Context, m *samtemplate.Model) error {
	for _, b := range m.EventBuses {
		if _, err := p.events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(b.Name)}); err != nil {
			return fmt.Errorf("provision: event bus %s: CreateEventBus: %w", b.LogicalID, err)
		}

		p.log.Info("event bus created", "bus", b.Name)
	}

	for _, c := range m.Connections {
		if _, err := p.events.CreateConnection(ctx, &eventbridge.CreateConnectionInput{
			Name: aws.String(c.Name), AuthorizationType: ebtypes.ConnectionAuthorizationType(c.AuthorizationType),
			AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebtypes.CreateConnectionApiKeyAuthRequestParameters{
				ApiKeyName: aws.String(c.APIKeyName), ApiKeyValue: aws.String(c.APIKeyValue),
			}},
		}); err != nil {
			return fmt.Errorf("provision: connection %s: CreateConnection: %w", c.LogicalID, err)
		}

		p.log.Info("connection created", "connection", c.Name) // never its key
	}

	for _, d := range m.APIDestinations {
		in := &eventbridge.CreateApiDestinationInput{
			Name: aws.String(d.Name), ConnectionArn: aws.String(d.ConnectionARN), InvocationEndpoint: aws.String(d.Endpoint),
			HttpMethod: ebtypes.ApiDestinationHttpMethod(d.Method),
		}
		if d.RateLimit > 0 {
			in.InvocationRateLimitPerSecond = aws.Int32(int32(d.RateLimit))
		}

		if _, err := p.events.CreateApiDestination(ctx, in); err != nil {
			return fmt.Errorf("provision: API destination %s: CreateApiDestination: %w", d.LogicalID, err)
		}

		p.log.Info("API destination created", "destination", d.Name, "endpoint", d.Endpoint)
	}

	for _, r := range m.Rules {
		state := ebtypes.RuleStateEnabled
		if !r.Enabled {
			state = ebtypes.RuleStateDisabled
		}

		if _, err := p.events.PutRule(ctx, &eventbridge.PutRuleInput{
			Name: aws.String(r.Name), EventBusName: aws.String(r.EventBusName), EventPattern: aws.String(r.Pattern), State: state,
		}); err != nil {
			return fmt.Errorf("provision: rule %s: PutRule: %w", r.LogicalID, err)
		}

		targets := make([]ebtypes.Target, len(r.Targets))
		for i, t := range r.Targets {
			targets[i] = ebtypes.Target{Id: aws.String(t.ID), Arn: aws.String(t.ARN)}
			if t.RoleARN != "" {
				targets[i].RoleArn = aws.String(t.RoleARN)
			}
		}

		if len(targets) > 0 {
			out, err := p.events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(r.Name), EventBusName: aws.String(r.EventBusName), Targets: targets})
			if err != nil {
				return fmt.Errorf("provision: rule %s: PutTargets: %w", r.LogicalID, err)
			}

			if out.FailedEntryCount > 0 {
				return fmt.Errorf("provision: rule %s: PutTargets refused %d target(s)", r.LogicalID, out.FailedEntryCount)
			}
		}

		p.log.Info("rule created", "rule", r.Name, "bus", r.EventBusName, "targets", len(targets))
	}

	return nil
}

package samtemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/awslabs/goformation/v7/cloudformation"
)

// EventBus is an EventBridge event bus (AWS::Events::EventBus).
type EventBus struct {
	LogicalID string
	Name      string
	ARN       string
}

// Connection is an EventBridge connection (AWS::Events::Connection): the
// credentials an API destination sends. Only API_KEY connections are
// modelled locally.
type Connection struct {
	LogicalID         string
	Name              string
	ARN               string
	AuthorizationType string
	APIKeyName        string
	APIKeyValue       string
}

// APIDestination is an EventBridge API destination
// (AWS::Events::ApiDestination): an HTTP endpoint rules deliver to.
type APIDestination struct {
	LogicalID     string
	Name          string
	ARN           string
	ConnectionARN string
	Endpoint      string
	Method        string
	RateLimit     int
}

// Rule is an EventBridge rule (AWS::Events::Rule) with an event pattern on
// a bus, and its targets.
type Rule struct {
	LogicalID    string
	Name         string
	EventBusName string
	Pattern      string // JSON
	Enabled      bool
	Targets      []RuleTarget
}

// RuleTarget is one target of a rule.
type RuleTarget struct {
	ID      string
	ARN     string
	RoleARN string
}

// buildEvents reads the template's event buses, connections, API
// destinations and rules. A bus's Name must be the local stack's name for
// it ("<stack>-<LogicalId>"), so that !Ref, which the functions' settings
// use, names the bus that exists.
func (m *Model) buildEvents(tpl *cloudformation.Template, _ *rawTemplate) error {
	buses := tpl.GetAllEventsEventBusResources()
	for _, id := range slices.Sorted(maps.Keys(buses)) {
		if buses[id].Name != m.Names[id] {
			return fmt.Errorf("samtemplate: event bus %s: Name %q must be ${AWS::StackName}-%s (%q), the name the local stack gives it", id, buses[id].Name, id, m.Names[id])
		}

		m.EventBuses = append(m.EventBuses, EventBus{LogicalID: id, Name: m.Names[id], ARN: m.ARNs[id]})
	}

	conns := tpl.GetAllEventsConnectionResources()
	for _, id := range slices.Sorted(maps.Keys(conns)) {
		c := conns[id]
		conn := Connection{LogicalID: id, Name: m.Names[id], ARN: m.ARNs[id]}

		if c.AuthorizationType != nil {
			conn.AuthorizationType = *c.AuthorizationType
		}

		if conn.AuthorizationType != "API_KEY" || c.AuthParameters == nil || c.AuthParameters.ApiKeyAuthParameters == nil {
			return fmt.Errorf("samtemplate: connection %s: the local stack models API_KEY connections only", id)
		}

		conn.APIKeyName = c.AuthParameters.ApiKeyAuthParameters.ApiKeyName
		conn.APIKeyValue = c.AuthParameters.ApiKeyAuthParameters.ApiKeyValue

		for where, v := range map[string]string{"ApiKeyName": conn.APIKeyName, "ApiKeyValue": conn.APIKeyValue} {
			if err := checkResolved(fmt.Sprintf("connection %s %s", id, where), v); err != nil {
				return err
			}
		}

		m.Connections = append(m.Connections, conn)
	}

	dests := tpl.GetAllEventsApiDestinationResources()
	for _, id := range slices.Sorted(maps.Keys(dests)) {
		d := dests[id]
		dest := APIDestination{LogicalID: id, Name: m.Names[id], ARN: m.ARNs[id], ConnectionARN: d.ConnectionArn, Endpoint: d.InvocationEndpoint, Method: d.HttpMethod}

		if d.InvocationRateLimitPerSecond != nil {
			dest.RateLimit = *d.InvocationRateLimitPerSecond
		}

		for where, v := range map[string]string{"ConnectionArn": dest.ConnectionARN, "InvocationEndpoint": dest.Endpoint} {
			if err := checkResolved(fmt.Sprintf("API destination %s %s", id, where), v); err != nil {
				return err
			}
		}

		m.APIDestinations = append(m.APIDestinations, dest)
	}

	rules := tpl.GetAllEventsRuleResources()
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		r := rules[id]
		rule := Rule{LogicalID: id, Name: m.Names[id], EventBusName: "default", Enabled: r.State == nil || *r.State == "ENABLED"}

		if r.EventBusName != nil {
			rule.EventBusName = *r.EventBusName
		}

		if r.EventPattern == nil {
			return fmt.Errorf("samtemplate: rule %s: the local stack models rules with an EventPattern only", id)
		}

		pattern, err := json.Marshal(r.EventPattern)
		if err != nil {
			return fmt.Errorf("samtemplate: rule %s EventPattern: %w", id, err)
		}

		rule.Pattern = string(pattern)

		for _, t := range r.Targets {
			target := RuleTarget{ID: t.Id, ARN: t.Arn}
			if t.RoleArn != nil {
				target.RoleARN = *t.RoleArn
			}

			if err := checkResolved(fmt.Sprintf("rule %s target %s Arn", id, t.Id), t.Arn); err != nil {
				return err
			}

			rule.Targets = append(rule.Targets, target)
		}

		for where, v := range map[string]string{"EventBusName": rule.EventBusName, "EventPattern": rule.Pattern} {
			if err := checkResolved(fmt.Sprintf("rule %s %s", id, where), v); err != nil {
				return err
			}
		}

		m.Rules = append(m.Rules, rule)
	}

	return nil
}

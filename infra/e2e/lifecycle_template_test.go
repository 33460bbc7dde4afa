package e2e

import (
	"slices"
	"strings"
	"testing"
)

// The lifecycle event bus (issue 14): exactly the functions that announce
// a transition may put events, on the bus only, and are told its name in
// EVENT_BUS_NAME; no other function has either.
func TestTemplateLifecycleEventsArePutByTheAnnouncersOnly(t *testing.T) {
	resources, stmts := templateStatements(t)
	if resources["LifecycleEventBus"] == nil {
		t.Fatal("template.yaml has no LifecycleEventBus")
	}
	announcers := []string{
		"TestMigrateFunction", "RequestSignOffFunction", "SignOffApiFunction", "CustomerApiFunction",
		"FinalMigrateFunction", "CompleteFunction", "MarkFailedFunction", "ReconcileFunction",
	}
	granted := map[string]bool{}
	for _, s := range stmts {
		if !slices.ContainsFunc(s.actions, func(a string) bool { return strings.HasPrefix(a, "events:") }) {
			continue
		}
		if s.owner == "LifecycleEventsRole" {
			continue // EventBridge's own role: it invokes the API destination
		}
		if !slices.Contains(announcers, s.owner) {
			t.Errorf("%s may %v; only %v announce", s.owner, s.actions, announcers)
		}
		if !slices.Equal(s.actions, []string{"events:PutEvents"}) || len(s.resources) != 1 || !strings.Contains(s.resources[0], "LifecycleEventBus") {
			t.Errorf("%s: %v on %v; want events:PutEvents on the lifecycle bus only", s.owner, s.actions, s.resources)
		}
		granted[s.owner] = true
	}
	for name, r := range resources {
		env := text(mapValue(mapValue(mapValue(mapValue(r, "Properties"), "Environment"), "Variables"), "EVENT_BUS_NAME"))
		announces := slices.Contains(announcers, name)
		if announces && (!granted[name] || !strings.Contains(env, "LifecycleEventBus")) {
			t.Errorf("%s announces but may put %v, EVENT_BUS_NAME %q", name, granted[name], env)
		}
		if !announces && env != "" {
			t.Errorf("%s is told the bus (%q) but announces nothing", name, env)
		}
	}
}

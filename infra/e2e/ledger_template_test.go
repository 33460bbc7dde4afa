package e2e

import (
	"slices"
	"strings"
	"testing"
)

// The HTTPS destination's delivery ledger (issue 14): a PAY_PER_REQUEST
// table keyed PK/SK, whose expiry attribute is PurgeAt (TEST deliveries
// expire like TEST records; LIVE ones are kept), reachable only by the
// functions that deliver, with only the two actions the ledger performs,
// and named to them in DELIVERY_LEDGER_TABLE.
func TestTemplateDeliveryLedgerIsForTheDeliverersOnly(t *testing.T) {
	resources, stmts := templateStatements(t)
	table := resources["DeliveryLedgerTable"]
	if table == nil {
		t.Fatal("template.yaml has no DeliveryLedgerTable")
	}
	props := mapValue(table, "Properties")
	if v := mapValue(props, "BillingMode"); v == nil || v.Value != "PAY_PER_REQUEST" {
		t.Error("DeliveryLedgerTable is not PAY_PER_REQUEST")
	}
	if got := text(mapValue(props, "KeySchema")); !strings.Contains(got, "PK") || !strings.Contains(got, "SK") {
		t.Errorf("DeliveryLedgerTable keys %q", got)
	}
	if got := text(mapValue(props, "TimeToLiveSpecification")); !strings.Contains(got, "PurgeAt") {
		t.Errorf("DeliveryLedgerTable TTL %q", got)
	}

	deliverers := []string{"FinalMigrateFunction", "TestMigrateFunction"}
	granted := map[string][]string{}
	for _, s := range stmts {
		if !slices.ContainsFunc(s.resources, func(r string) bool { return strings.Contains(r, "DeliveryLedgerTable") }) {
			continue
		}
		if !slices.Contains(deliverers, s.owner) {
			t.Errorf("%s may use the delivery ledger; only %v deliver", s.owner, deliverers)
		}
		for _, a := range s.actions {
			if a != "dynamodb:PutItem" && a != "dynamodb:BatchGetItem" {
				t.Errorf("%s may %s on the delivery ledger; it only puts and batch-gets", s.owner, a)
			}
		}
		granted[s.owner] = append(granted[s.owner], s.actions...)
	}
	for _, fn := range deliverers {
		for _, a := range []string{"dynamodb:PutItem", "dynamodb:BatchGetItem"} {
			if !slices.Contains(granted[fn], a) {
				t.Errorf("%s may not %s on the delivery ledger", fn, a)
			}
		}
		env := mapValue(mapValue(mapValue(mapValue(resources[fn], "Properties"), "Environment"), "Variables"), "DELIVERY_LEDGER_TABLE")
		if got := text(env); !strings.Contains(got, "DeliveryLedgerTable") {
			t.Errorf("%s DELIVERY_LEDGER_TABLE = %q", fn, got)
		}
	}
}

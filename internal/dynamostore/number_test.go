package dynamostore

import (
	"encoding/json"
	"strings"
	"testing"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A number DynamoDB can keep is stored as a number; one with more than 38
// significant digits (DynamoDB refuses it, and the write would fail on
// every retry) is stored as its exact text.
func TestNumbersDynamoDBCannotKeepAreStoredAsText(t *testing.T) {
	for in, wantN := range map[string]bool{
		"1250.00": true, "-0.000123": true, "1e10": true,
		strings.Repeat("9", 38):             true,
		"0.000" + strings.Repeat("1", 38):   true,
		strings.Repeat("9", 39):             false,
		"1." + strings.Repeat("1", 38):      false,
		"-" + strings.Repeat("12", 20) + "": false,
	} {
		v := number(json.Number(in))
		switch got := v.(type) {
		case *ddb.AttributeValueMemberN:
			if !wantN || got.Value != in {
				t.Errorf("%s: stored as N %q", in, got.Value)
			}
		case *ddb.AttributeValueMemberS:
			if wantN || got.Value != in {
				t.Errorf("%s: stored as S %q", in, got.Value)
			}
		default:
			t.Errorf("%s: %T", in, v)
		}
	}
}

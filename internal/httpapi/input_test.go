package httpapi

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

func TestDecodeRefusesDataAfterTheJSON(t *testing.T) {
	var v struct {
		A int `json:"a"`
	}
	for body, ok := range map[string]bool{
		`{"a":1}`:          true,
		"{\"a\":1}\r\n \t": true,
		`{"a":1} x`:        false,
		`{"a":1}{"a":2}`:   false,
		`{"a":1}]`:         false,
		`{"a":1} null`:     false,
	} {
		err := Decode(Request{Body: body}, &v)
		if (err == nil) != ok || (err != nil && (cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(cutover.ErrorMessage(err), "after the JSON"))) {
			t.Errorf("Decode(%q) = %v", body, err)
		}
	}
}

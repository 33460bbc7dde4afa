package mapspec

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

// A key of the spec may hold a dot or be all digits: an alias for the
// column "e.mail", a lookup from "Mr." or "1.5". The path an error names
// must still point at that key, in the form the spec's own checks use
// (`aliases["e.mail"]`), not split it into made-up levels.
func TestErrorPathsKeepKeysWithDots(t *testing.T) {
	sch := testSchema(t)
	for name, tc := range map[string]struct{ file, want string }{
		"alias of a dotted column (JSON Schema)": {
			`"aliases":{"e.mail":[""]},"fields":[{"target":"s","column":"V"}]`,
			`mapping spec: $.files[0].aliases["e.mail"][0]: `,
		},
		"lookup key with a dot (JSON Schema)": {
			`"fields":[{"target":"s","column":"V","steps":[{"op":"lookup","table":{"1.5":5}}]}]`,
			`mapping spec: $.files[0].fields[0].steps[0].table["1.5"]: `,
		},
		"lookup key with a dot (engine)": {
			`"fields":[{"target":"e","column":"V","steps":[{"op":"lookup","table":{"Mr.":"gone"}}]}]`,
			`mapping spec: $.files[0].fields[0].steps[0].table["Mr."]: "gone" is not a value of field "e"`,
		},
		"lookup key all digits (JSON Schema)": {
			`"fields":[{"target":"s","column":"V","steps":[{"op":"lookup","table":{"7":true}}]}]`,
			`mapping spec: $.files[0].fields[0].steps[0].table["7"]: `,
		},
	} {
		t.Run(name, func(t *testing.T) {
			src := `{"version":1,"files":[{"name":"f","entity":"t",` + tc.file + `}]}`
			_, err := ParseWith([]byte(src), sch)
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			if msg := cutover.ErrorMessage(err); !strings.HasPrefix(msg, tc.want) {
				t.Fatalf("message = %q\nwant prefix  %q", msg, tc.want)
			}
		})
	}
}

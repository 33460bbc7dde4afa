package cutover

import "testing"

func TestParseThresholds(t *testing.T) {
	got, err := ParseThresholds("20", "2", "0", "true")
	if err != nil || got != DefaultThresholds {
		t.Fatalf("the template's defaults read as %+v, %v", got, err)
	}
	if got, err := ParseThresholds("7.5", "0", "15", "false"); err != nil || got != (Thresholds{FillDropPoints: 7.5, DeltaPct: 15}) {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range [][4]string{{"", "2", "0", "true"}, {"20", "-1", "0", "true"}, {"20", "2", "101", "true"}, {"20", "2", "0", "yes"}, {"x", "2", "0", "true"}} {
		if _, err := ParseThresholds(bad[0], bad[1], bad[2], bad[3]); ErrorCode(err) != EINVALID {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

package awsenv

import "testing"

func TestMemoryBytes(t *testing.T) {
	for v, want := range map[string]int64{"256": 256 << 20, "10240": 10240 << 20, "": 0, "0": 0, "-128": 0, "1 GB": 0, "99999999999999": 0} {
		t.Setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", v)
		if got := MemoryBytes(); got != want {
			t.Errorf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%q: MemoryBytes() = %d, want %d", v, got, want)
		}
	}
}

package routing

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseEnvReadsEachKind(t *testing.T) {
	cases := []struct {
		name string
		env  string
		vars map[string]string
		want Config
	}{
		{"unset is builtin", cutover.EnvTest, nil, Config{Env: cutover.EnvTest, Kind: KindBuiltin}},
		{
			"builtin ignores the rest", cutover.EnvLive,
			map[string]string{"LIVE_DESTINATION": "builtin", "LIVE_DESTINATION_URL": "ftp://x"},
			Config{Env: cutover.EnvLive, Kind: KindBuiltin},
		},
		{"https", cutover.EnvTest, map[string]string{
			"TEST_DESTINATION": "https", "TEST_DESTINATION_URL": "https://staging.vendor.test/cutover",
			"TEST_DESTINATION_SECRET": "arn:aws:secretsmanager:eu-west-1:1:secret:t", "DESTINATION_BATCH_RECORDS": "250", "DESTINATION_BATCH_BYTES": "65536",
		}, Config{Env: cutover.EnvTest, Kind: KindHTTPS, URL: "https://staging.vendor.test/cutover", Secret: "arn:aws:secretsmanager:eu-west-1:1:secret:t", BatchRecords: 250, BatchBytes: 65536}},
		{"https to this machine over http", cutover.EnvLive, map[string]string{
			"LIVE_DESTINATION": "https", "LIVE_DESTINATION_URL": "http://127.0.0.1:8090", "LIVE_DESTINATION_SECRET": "arn:l",
		}, Config{Env: cutover.EnvLive, Kind: KindHTTPS, URL: "http://127.0.0.1:8090", Secret: "arn:l"}},
		{"the other environment's settings are not read", cutover.EnvLive, map[string]string{
			"TEST_DESTINATION": "https", "LIVE_DESTINATION": "s3", "LIVE_DESTINATION_BUCKET": "vendor-drop",
		}, Config{Env: cutover.EnvLive, Kind: KindS3, Bucket: "vendor-drop"}},
		{"s3 with a tenant prefix", cutover.EnvTest, map[string]string{
			"TEST_DESTINATION": "s3", "TEST_DESTINATION_BUCKET": "b", "TEST_DESTINATION_PREFIX": "staging/{tenantId}/",
		}, Config{Env: cutover.EnvTest, Kind: KindS3, Bucket: "b", Prefix: "staging/{tenantId}/"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseEnv(c.env, env(c.vars))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestParseEnvRefusesMisconfigurationsNamingTheParameter(t *testing.T) {
	https := func(extra map[string]string) map[string]string {
		m := map[string]string{"TEST_DESTINATION": "https", "TEST_DESTINATION_URL": "https://v.test", "TEST_DESTINATION_SECRET": "arn:s"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name  string
		vars  map[string]string
		param string
	}{
		{"unknown kind", map[string]string{"TEST_DESTINATION": "ftp"}, "TestDestination (TEST_DESTINATION)"},
		{"https without url", https(map[string]string{"TEST_DESTINATION_URL": ""}), "TestDestinationUrl"},
		{"relative url", https(map[string]string{"TEST_DESTINATION_URL": "vendor.test/import"}), "TestDestinationUrl"},
		{"plain http elsewhere", https(map[string]string{"TEST_DESTINATION_URL": "http://vendor.test"}), "TestDestinationUrl"},
		{"query", https(map[string]string{"TEST_DESTINATION_URL": "https://vendor.test/?a=1"}), "TestDestinationUrl"},
		{"tenant placeholder in url", https(map[string]string{"TEST_DESTINATION_URL": "https://{tenantId}.vendor.test"}), "TestDestinationUrl"},
		{"no secret", https(map[string]string{"TEST_DESTINATION_SECRET": ""}), "TestDestinationSecretName"},
		{"too many records", https(map[string]string{"DESTINATION_BATCH_RECORDS": "1001"}), "DestinationBatchRecords"},
		{"records not a number", https(map[string]string{"DESTINATION_BATCH_RECORDS": "lots"}), "DestinationBatchRecords"},
		{"too few bytes", https(map[string]string{"DESTINATION_BATCH_BYTES": "100"}), "DestinationBatchBytes"},
		{"too many bytes", https(map[string]string{"DESTINATION_BATCH_BYTES": "2000000"}), "DestinationBatchBytes"},
		{"s3 without bucket", map[string]string{"TEST_DESTINATION": "s3"}, "TestDestinationBucket"},
		{"s3 prefix without tenant", map[string]string{"TEST_DESTINATION": "s3", "TEST_DESTINATION_BUCKET": "b", "TEST_DESTINATION_PREFIX": "all/"}, "TestDestinationPrefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseEnv(cutover.EnvTest, env(c.vars))
			if err == nil {
				t.Fatal("accepted")
			}
			if cutover.ErrorCode(err) != cutover.EINVALID || !strings.Contains(err.Error(), c.param) {
				t.Errorf("error %q (%s), want EINVALID naming %s", err, cutover.ErrorCode(err), c.param)
			}
		})
	}
	if _, err := ParseEnv("STAGING", env(nil)); cutover.ErrorCode(err) != cutover.EINTERNAL {
		t.Errorf("an unknown environment: %v", err)
	}
}

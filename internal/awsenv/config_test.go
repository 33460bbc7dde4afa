package awsenv

import (
	"context"
	"strings"
	"testing"
)

// The config a function builds is the one Lambda's environment describes:
// the region, the execution role's credentials (session token included),
// and the emulator's endpoint when there is one; a function missing any of
// the first two stops with a message naming what is missing.
func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "token", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
	}
	getenv := func(k string) string { return env[k] }

	cfg, err := configFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-2" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:4566" {
		t.Errorf("region %q, endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Errorf("credentials %+v, %v", creds, err)
	}

	delete(env, "AWS_ENDPOINT_URL")
	delete(env, "AWS_REGION")
	env["AWS_DEFAULT_REGION"] = "us-east-1"
	if cfg, err = configFromEnv(getenv); err != nil || cfg.Region != "us-east-1" || cfg.BaseEndpoint != nil {
		t.Errorf("AWS_DEFAULT_REGION: region %q, endpoint %v, %v", cfg.Region, cfg.BaseEndpoint, err)
	}

	delete(env, "AWS_DEFAULT_REGION")
	if _, err := configFromEnv(getenv); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("no region: %v", err)
	}
	env["AWS_REGION"] = "eu-west-2"
	delete(env, "AWS_SECRET_ACCESS_KEY")
	if _, err := configFromEnv(getenv); err == nil || !strings.Contains(err.Error(), "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("no credentials: %v", err)
	}
}

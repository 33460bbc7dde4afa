// Command echo is infra/stack's test function. As an HTTP API handler it
// reports what it saw (route, caller, environment, whether it could read its
// secret from the emulator); as a Step Functions task it succeeds or fails
// as asked.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type event struct {
	RouteKey       string `json:"routeKey"`
	RawPath        string `json:"rawPath"`
	RequestContext struct {
		Authorizer *struct {
			JWT struct {
				Claims map[string]string `json:"claims"`
			} `json:"jwt"`
		} `json:"authorizer"`
	} `json:"requestContext"`
	PathParameters map[string]string `json:"pathParameters"`
	Fail           bool              `json:"fail"`
}

func handle(ctx context.Context, ev event) (any, error) {
	if ev.RouteKey == "" {
		if ev.Fail {
			return nil, errors.New("step failed as asked")
		}

		return map[string]any{"ok": true}, nil
	}

	if strings.HasSuffix(ev.RawPath, "/fail") {
		return nil, errors.New("route failed as asked")
	}

	secretLen := -1

	if cfg, err := config.LoadDefaultConfig(ctx); err == nil {
		arn := os.Getenv("SECRET_ARN")
		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
		if err == nil && out.SecretString != nil {
			secretLen = len(*out.SecretString)
		}
	}

	seen := map[string]any{
		"routeKey":   ev.RouteKey,
		"name":       ev.PathParameters["name"],
		"siteUrl":    os.Getenv("SITE_URL"),
		"table":      os.Getenv("ITEMS_TABLE"),
		"secretArn":  os.Getenv("SECRET_ARN"),
		"secretSize": secretLen,
	}

	if a := ev.RequestContext.Authorizer; a != nil {
		seen["sub"] = a.JWT.Claims["sub"]
	}

	body, err := json.Marshal(seen)
	if err != nil {
		return nil, err
	}

	return map[string]any{"statusCode": 200, "headers": map[string]string{"content-type": "application/json"}, "body": string(body)}, nil
}

func main() {
	lambda.Start(handle)
}

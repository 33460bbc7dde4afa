// Package secret reads a function's secrets from Secrets Manager. It is
// apart from awsenv, which every Lambda links, so that only the functions
// that read a secret (the sign-off ones) link the Secrets Manager client.
package secret

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Read reads a secret's string value.
//
// Errors: when the secret cannot be read or is empty.
func Read(ctx context.Context, cfg aws.Config, arn string) (string, error) {
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	if aws.ToString(out.SecretString) == "" {
		return "", fmt.Errorf("read secret: empty value")
	}
	return *out.SecretString, nil
}

package provision

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/cutover/cutover/infra/samtemplate"
)

type tableAPI interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

type bucketAPI interface {
	CreateBucket(context.Context, *s3.CreateBucketInput, ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutBucketCors(context.Context, *s3.PutBucketCorsInput, ...func(*s3.Options)) (*s3.PutBucketCorsOutput, error)
	PutBucketLifecycleConfiguration(context.Context, *s3.PutBucketLifecycleConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
}

type secretAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
}

type emailAPI interface {
	CreateEmailIdentity(context.Context, *sesv2.CreateEmailIdentityInput, ...func(*sesv2.Options)) (*sesv2.CreateEmailIdentityOutput, error)
}

type stateMachineAPI interface {
	CreateStateMachine(context.Context, *sfn.CreateStateMachineInput, ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
}

type httpAPIAPI interface {
	CreateApi(context.Context, *apigatewayv2.CreateApiInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateApiOutput, error)
	CreateAuthorizer(context.Context, *apigatewayv2.CreateAuthorizerInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateAuthorizerOutput, error)
	CreateIntegration(context.Context, *apigatewayv2.CreateIntegrationInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateIntegrationOutput, error)
	CreateRoute(context.Context, *apigatewayv2.CreateRouteInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateRouteOutput, error)
	CreateStage(context.Context, *apigatewayv2.CreateStageInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.CreateStageOutput, error)
}

func (p *provisioner) createTable(ctx context.Context, t samtemplate.Table) error {
	in := &dynamodb.CreateTableInput{
		TableName:                 aws.String(t.Name),
		KeySchema:                 keySchema(t.HashKey, t.RangeKey),
		DeletionProtectionEnabled: aws.Bool(t.DeletionProtection),
	}

	for _, name := range slices.Sorted(maps.Keys(t.Attributes)) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(name),
			AttributeType: ddbtypes.ScalarAttributeType(t.Attributes[name]),
		})
	}

	provisioned := t.BillingMode != "PAY_PER_REQUEST"
	throughput := &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}

	if provisioned {
		in.BillingMode = ddbtypes.BillingModeProvisioned
		in.ProvisionedThroughput = throughput
	} else {
		in.BillingMode = ddbtypes.BillingModePayPerRequest
	}

	for _, g := range t.GSIs {
		gsi := ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(g.Name),
			KeySchema: keySchema(g.HashKey, g.RangeKey),
			Projection: &ddbtypes.Projection{
				ProjectionType: ddbtypes.ProjectionType(g.ProjectionType),
			},
		}

		if len(g.NonKeyAttributes) > 0 {
			gsi.Projection.NonKeyAttributes = g.NonKeyAttributes
		}

		if provisioned {
			gsi.ProvisionedThroughput = throughput
		}

		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}

	if _, err := p.tables.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("provision: table %s: CreateTable: %w", t.LogicalID, err)
	}

	if t.TTLAttribute != "" {
		_, err := p.tables.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: aws.String(t.Name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
				AttributeName: aws.String(t.TTLAttribute),
				Enabled:       aws.Bool(true),
			},
		})
		if err != nil {
			return fmt.Errorf("provision: table %s: UpdateTimeToLive: %w", t.LogicalID, err)
		}
	}

	p.log.InfoContext(ctx, "created table", "logicalId", t.LogicalID, "name", t.Name,
		"indexes", len(t.GSIs), "ttlAttribute", t.TTLAttribute)

	return nil
}

func keySchema(hash, rng string) []ddbtypes.KeySchemaElement {
	ks := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, ddbtypes.KeySchemaElement{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange})
	}

	return ks
}

// createBucket creates the bucket and applies its configuration; calls kumo
// does not implement are skipped and returned.
func (p *provisioner) createBucket(ctx context.Context, b samtemplate.Bucket) ([]string, error) {
	if _, err := p.buckets.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.Name)}); err != nil {
		return nil, fmt.Errorf("provision: bucket %s: CreateBucket: %w", b.LogicalID, err)
	}

	var skipped []string

	apply := func(op string, call func() error) error {
		err := call()
		if err == nil {
			return nil
		}

		if isNotImplemented(err) {
			p.log.WarnContext(ctx, "kumo does not implement a bucket configuration call; skipped",
				"logicalId", b.LogicalID, "operation", op)
			skipped = append(skipped, b.LogicalID+": "+op)

			return nil
		}

		return fmt.Errorf("provision: bucket %s: %s: %w", b.LogicalID, op, err)
	}

	steps := []struct {
		op   string
		skip bool
		call func() error
	}{
		{"PutBucketCors", len(b.CORS) == 0, func() error {
			_, err := p.buckets.PutBucketCors(ctx, &s3.PutBucketCorsInput{
				Bucket:            aws.String(b.Name),
				CORSConfiguration: &s3types.CORSConfiguration{CORSRules: corsRules(b.CORS)},
			})

			return err
		}},
		{"PutBucketLifecycleConfiguration", len(b.Lifecycle) == 0, func() error {
			_, err := p.buckets.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
				Bucket:                 aws.String(b.Name),
				LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: lifecycleRules(b.Lifecycle)},
			})

			return err
		}},
		{"PutPublicAccessBlock", b.PublicAccessBlock == nil, func() error {
			pab := b.PublicAccessBlock
			_, err := p.buckets.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
				Bucket: aws.String(b.Name),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
					BlockPublicAcls:       aws.Bool(pab.BlockPublicAcls),
					BlockPublicPolicy:     aws.Bool(pab.BlockPublicPolicy),
					IgnorePublicAcls:      aws.Bool(pab.IgnorePublicAcls),
					RestrictPublicBuckets: aws.Bool(pab.RestrictPublicBuckets),
				},
			})

			return err
		}},
		{"PutBucketEncryption", len(b.Encryption) == 0, func() error {
			_, err := p.buckets.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
				Bucket:                            aws.String(b.Name),
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: encryptionRules(b.Encryption)},
			})

			return err
		}},
	}

	for _, s := range steps {
		if s.skip {
			continue
		}

		if err := apply(s.op, s.call); err != nil {
			return nil, err
		}
	}

	if b.ObjectOwnership != "" {
		// kumo v0.33.1 routes PUT ?ownershipControls to CreateBucket, so the
		// call is not made; BucketOwnerEnforced (ACLs disabled) is what
		// kumo behaves like anyway.
		p.log.InfoContext(ctx, "bucket OwnershipControls not applied locally", "logicalId", b.LogicalID,
			"objectOwnership", b.ObjectOwnership)
	}

	p.log.InfoContext(ctx, "created bucket", "logicalId", b.LogicalID, "name", b.Name, "skipped", len(skipped))

	return skipped, nil
}

func corsRules(rules []samtemplate.CORSRule) []s3types.CORSRule {
	out := make([]s3types.CORSRule, 0, len(rules))
	for _, r := range rules {
		rule := s3types.CORSRule{
			AllowedMethods: r.AllowedMethods,
			AllowedOrigins: r.AllowedOrigins,
			AllowedHeaders: r.AllowedHeaders,
			ExposeHeaders:  r.ExposedHeaders,
		}

		if r.ID != "" {
			rule.ID = aws.String(r.ID)
		}

		if r.MaxAgeSeconds > 0 {
			rule.MaxAgeSeconds = aws.Int32(int32(r.MaxAgeSeconds))
		}

		out = append(out, rule)
	}

	return out
}

func lifecycleRules(rules []samtemplate.LifecycleRule) []s3types.LifecycleRule {
	out := make([]s3types.LifecycleRule, 0, len(rules))
	for _, r := range rules {
		rule := s3types.LifecycleRule{
			Status: s3types.ExpirationStatusDisabled,
			Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String(r.Prefix)},
		}

		if r.Enabled {
			rule.Status = s3types.ExpirationStatusEnabled
		}

		if r.ID != "" {
			rule.ID = aws.String(r.ID)
		}

		if r.AbortIncompleteMultipartUploadDays > 0 {
			rule.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{
				DaysAfterInitiation: aws.Int32(int32(r.AbortIncompleteMultipartUploadDays)),
			}
		}

		if r.ExpirationDays > 0 {
			rule.Expiration = &s3types.LifecycleExpiration{Days: aws.Int32(int32(r.ExpirationDays))}
		}

		out = append(out, rule)
	}

	return out
}

func encryptionRules(rules []samtemplate.EncryptionRule) []s3types.ServerSideEncryptionRule {
	out := make([]s3types.ServerSideEncryptionRule, 0, len(rules))
	for _, r := range rules {
		def := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(r.Algorithm)}
		if r.KMSMasterKeyID != "" {
			def.KMSMasterKeyID = aws.String(r.KMSMasterKeyID)
		}

		out = append(out, s3types.ServerSideEncryptionRule{
			ApplyServerSideEncryptionByDefault: def,
			BucketKeyEnabled:                   aws.Bool(r.BucketKeyEnabled),
		})
	}

	return out
}

// createSecret creates the secret with a generated (or the literal) value
// and returns the ARN kumo assigned and the value.
func (p *provisioner) createSecret(ctx context.Context, s samtemplate.Secret) (arn, value string, err error) {
	value = s.Value
	if s.Generate != nil {
		value, err = generateSecret(s.Generate)
		if err != nil {
			return "", "", fmt.Errorf("provision: secret %s: %w", s.LogicalID, err)
		}
	}

	in := &secretsmanager.CreateSecretInput{Name: aws.String(s.Name), SecretString: aws.String(value)}
	if s.Description != "" {
		in.Description = aws.String(s.Description)
	}

	out, err := p.secrets.CreateSecret(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("provision: secret %s: CreateSecret: %w", s.LogicalID, err)
	}

	p.log.InfoContext(ctx, "created secret", "logicalId", s.LogicalID, "arn", aws.ToString(out.ARN))

	return aws.ToString(out.ARN), value, nil
}

func (p *provisioner) createEmailIdentity(ctx context.Context, identity string) error {
	_, err := p.email.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: aws.String(identity)})
	if err != nil {
		return fmt.Errorf("provision: SES identity %s: CreateEmailIdentity: %w", identity, err)
	}

	p.log.InfoContext(ctx, "created SES identity", "identity", identity)

	return nil
}

func (p *provisioner) createStateMachine(ctx context.Context, sm samtemplate.StateMachine) error {
	def, err := sm.Definition()
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}

	out, err := p.machines.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(sm.Name),
		Definition: aws.String(def),
		RoleArn:    aws.String(localRole(sm.Name)),
		Type:       sfntypes.StateMachineType(sm.Type),
	})
	if err != nil {
		return fmt.Errorf("provision: state machine %s: CreateStateMachine: %w", sm.LogicalID, err)
	}

	if got := aws.ToString(out.StateMachineArn); got != sm.ARN {
		return fmt.Errorf("provision: state machine %s: kumo assigned ARN %s, the model expected %s", sm.LogicalID, got, sm.ARN)
	}

	p.log.InfoContext(ctx, "created state machine", "logicalId", sm.LogicalID, "arn", sm.ARN)

	return nil
}

// localRole is a placeholder execution role; kumo requires one and checks
// no permissions.
func localRole(name string) string {
	return "arn:aws:iam::000000000000:role/" + name + "-role"
}

// createAPI creates the HTTP API itself and returns the id kumo assigned.
func (p *provisioner) createAPI(ctx context.Context, api samtemplate.HTTPAPI) (string, error) {
	in := &apigatewayv2.CreateApiInput{Name: aws.String(api.Name), ProtocolType: apitypes.ProtocolTypeHttp}

	if c := api.CORS; c != nil {
		in.CorsConfiguration = &apitypes.Cors{
			AllowOrigins:     c.AllowOrigins,
			AllowMethods:     c.AllowMethods,
			AllowHeaders:     c.AllowHeaders,
			ExposeHeaders:    c.ExposeHeaders,
			AllowCredentials: aws.Bool(c.AllowCredentials),
		}

		if c.MaxAgeSeconds > 0 {
			in.CorsConfiguration.MaxAge = aws.Int32(int32(c.MaxAgeSeconds))
		}
	}

	out, err := p.apis.CreateApi(ctx, in)
	if err != nil {
		return "", fmt.Errorf("provision: HTTP API %s: CreateApi: %w", api.LogicalID, err)
	}

	return aws.ToString(out.ApiId), nil
}

// configureAPI adds the authorizers, one AWS_PROXY integration per function
// (and payload format), a route per event and the auto-deployed $default
// stage.
func (p *provisioner) configureAPI(ctx context.Context, m *samtemplate.Model, api samtemplate.HTTPAPI) error {
	where := "provision: HTTP API " + api.LogicalID
	authorizers := map[string]string{}

	for _, a := range api.Authorizers {
		out, err := p.apis.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{
			ApiId:          aws.String(api.ID),
			Name:           aws.String(a.Name),
			AuthorizerType: apitypes.AuthorizerTypeJwt,
			IdentitySource: a.IdentitySources,
			JwtConfiguration: &apitypes.JWTConfiguration{
				Issuer:   aws.String(a.Issuer),
				Audience: a.Audience,
			},
		})
		if err != nil {
			return fmt.Errorf("%s: CreateAuthorizer %s: %w", where, a.Name, err)
		}

		authorizers[a.Name] = aws.ToString(out.AuthorizerId)
	}

	integrations := map[string]string{}

	for _, r := range api.Routes {
		key := r.Function + "\x00" + r.PayloadFormatVersion
		if _, ok := integrations[key]; ok {
			continue
		}

		fn, ok := m.Function(r.Function)
		if !ok {
			return fmt.Errorf("%s: route %s targets unknown function %s", where, r.RouteKey(), r.Function)
		}

		out, err := p.apis.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{
			ApiId:                aws.String(api.ID),
			IntegrationType:      apitypes.IntegrationTypeAwsProxy,
			IntegrationUri:       aws.String(fn.ARN),
			IntegrationMethod:    aws.String("POST"),
			PayloadFormatVersion: aws.String(r.PayloadFormatVersion),
		})
		if err != nil {
			return fmt.Errorf("%s: CreateIntegration for %s: %w", where, r.Function, err)
		}

		integrations[key] = aws.ToString(out.IntegrationId)
	}

	for _, r := range api.Routes {
		in := &apigatewayv2.CreateRouteInput{
			ApiId:             aws.String(api.ID),
			RouteKey:          aws.String(r.RouteKey()),
			Target:            aws.String("integrations/" + integrations[r.Function+"\x00"+r.PayloadFormatVersion]),
			AuthorizationType: apitypes.AuthorizationTypeNone,
		}

		if r.Authorizer != "" {
			in.AuthorizationType = apitypes.AuthorizationTypeJwt
			in.AuthorizerId = aws.String(authorizers[r.Authorizer])
		}

		if _, err := p.apis.CreateRoute(ctx, in); err != nil {
			return fmt.Errorf("%s: CreateRoute %q: %w", where, r.RouteKey(), err)
		}
	}

	_, err := p.apis.CreateStage(ctx, &apigatewayv2.CreateStageInput{
		ApiId:      aws.String(api.ID),
		StageName:  aws.String("$default"),
		AutoDeploy: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("%s: CreateStage $default: %w", where, err)
	}

	p.log.InfoContext(ctx, "created HTTP API", "logicalId", api.LogicalID, "apiId", api.ID,
		"routes", len(api.Routes), "authorizers", len(api.Authorizers))

	return nil
}

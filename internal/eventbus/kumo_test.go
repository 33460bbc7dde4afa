package eventbus_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebt "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/cutover/cutover/infra/emulator"
	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/eventbus"
)

// The client's signed PutEvents on the emulator: the event reaches a rule's
// API destination with the connection's API key, its detail intact.
func TestPublishReachesAnAPIDestinationOnTheEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".build", "kumo")
	if err := emulator.Build(ctx, root, bin); err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.Start(context.Background(), emulator.Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	type arrival struct {
		key  string
		body []byte
	}
	arrived := make(chan arrival, 4)
	product := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		arrived <- arrival{r.Header.Get("X-Cutover-Events-Key"), b}
	}))
	defer product.Close()

	cfg := aws.Config{Region: emulator.Region, BaseEndpoint: aws.String(srv.Endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	eb := eventbridge.NewFromConfig(cfg) // the test's own setup, as provisioning does it
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("lifecycle")}); err != nil {
		t.Fatal(err)
	}
	conn, err := eb.CreateConnection(ctx, &eventbridge.CreateConnectionInput{
		Name: aws.String("product"), AuthorizationType: ebt.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &ebt.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebt.CreateConnectionApiKeyAuthRequestParameters{ApiKeyName: aws.String("X-Cutover-Events-Key"), ApiKeyValue: aws.String("k-1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dest, err := eb.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("product"), ConnectionArn: conn.ConnectionArn, InvocationEndpoint: aws.String(product.URL + "/events"), HttpMethod: ebt.ApiDestinationHttpMethodPost})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: aws.String("lifecycle"), EventPattern: aws.String(`{"source":["cutover"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: aws.String("lifecycle"), Targets: []ebt.Target{{Id: aws.String("p"), Arn: dest.ApiDestinationArn}}}); err != nil {
		t.Fatal(err)
	}

	bus := &eventbus.Bus{API: eventbus.NewClient(cfg), Name: "lifecycle"}
	ev := cutover.NewLifecycleEvent(cutover.EventLive, &cutover.Migration{ID: "m-1", TenantID: "acme"}, 1, "", time.Now())
	id, err := bus.Publish(ctx, ev)
	if err != nil || id == "" {
		t.Fatalf("Publish = %q, %v", id, err)
	}
	select {
	case a := <-arrived:
		var env struct {
			Source     string          `json:"source"`
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil {
			t.Fatal(err)
		}
		var d struct{ ID, TenantID string }
		_ = json.Unmarshal(env.Detail, &d)
		if a.key != "k-1" || env.Source != "cutover" || env.DetailType != "Migration Live" || d.ID != ev.ID || d.TenantID != "acme" {
			t.Fatalf("arrived with key %q: %s", a.key, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the event never reached the API destination")
	}
}

package simulator_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/facesign/facesign/simulator"
)

// TestCountersRequireCredentials: the simulated table verifies the real
// SDK's SigV4 signature of its principal, and refuses another key, a wrong
// secret, and a request a relay altered after it was signed.
func TestCountersRequireCredentials(t *testing.T) {
	c, err := simulator.NewCounters("")
	if err != nil {
		t.Fatal(err)
	}
	c.RequireCredentials("AKIACOUNTER", "counter-secret")
	var tamper bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tamper { // a relay that moves the counter's target value
			b, _ := io.ReadAll(r.Body)
			b = bytes.Replace(b, []byte(`"N":"5"`), []byte(`"N":"9"`), 1)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		c.ServeHTTP(w, r)
	}))
	defer srv.Close()
	client := func(id, secret string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{Region: "sim-local-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), RetryMaxAttempts: 1})
	}
	update := func(cl *dynamodb.Client, n int) error {
		_, err := cl.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName:                 aws.String("facesign-counter"),
			Key:                       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "gallery"}},
			UpdateExpression:          aws.String("SET n = :new"),
			ConditionExpression:       aws.String("attribute_not_exists(n)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":new": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}},
		})
		return err
	}
	denied := func(err error) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == "AccessDeniedException"
	}
	for _, tc := range []struct {
		name       string
		id, secret string
		tamper     bool
	}{
		{"another access key", "AKIAPARENT", "counter-secret", false},
		{"wrong secret", "AKIACOUNTER", "guessed", false},
		{"altered in transit", "AKIACOUNTER", "counter-secret", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tamper = tc.tamper
			if err := update(client(tc.id, tc.secret), 5); !denied(err) {
				t.Fatalf("update: %v, want AccessDeniedException", err)
			}
		})
	}
	tamper = false
	good := client("AKIACOUNTER", "counter-secret")
	if err := update(good, 5); err != nil {
		t.Fatalf("the principal's own update: %v", err)
	}
	out, err := good.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("facesign-counter"),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "gallery"}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := out.Item["n"].(*types.AttributeValueMemberN); !ok || n.Value != "5" {
		t.Fatalf("counter = %v; the refused requests must change nothing", out.Item["n"])
	}
	// An unsigned request is refused before anything else.
	resp, err := http.Post(srv.URL, "application/x-amz-json-1.0", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unsigned: %d", resp.StatusCode)
	}
}

// FuzzCountersAuthorization: no Authorization header, however malformed,
// gets a request past a counter that requires its principal's signature.
func FuzzCountersAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIACOUNTER/20261122/sim-local-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261122T120000Z")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIACOUNTER/20261122/x/y/aws4_request, SignedHeaders=, Signature=zz", "2026")
	f.Add("AWS4-HMAC-SHA256 ", "")
	c, err := simulator.NewCounters("")
	if err != nil {
		f.Fatal(err)
	}
	c.RequireCredentials("AKIACOUNTER", "counter-secret")
	f.Fuzz(func(t *testing.T, auth, date string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"TableName":"t12","Key":{"id":{"S":"g"}},"ConsistentRead":true}`))
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", date)
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			t.Fatalf("accepted %q", auth)
		}
	})
}

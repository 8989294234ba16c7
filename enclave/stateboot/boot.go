package stateboot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/kms"
	"github.com/facesign/facesign/enclave/state"
)

// NewJournalFunc is enclave.RunConfig.NewJournal.
type NewJournalFunc = func(ctx context.Context, log enclave.Log, rand io.Reader, dim int) (enclave.Journal, error)

// ErrLinks reports [Links] without a relay, host dialer or attester.
var ErrLinks = errors.New("stateboot: links incomplete")

// NewJournal validates cfg and links and returns the function that, at
// boot, builds the enclave's [state.Journal]: data key from KMS through
// recipient attestation by a, rollback counter in DynamoDB, snapshots at the
// parent — every AWS call over TLS inside the enclave through the parent's
// relays. A bad cfg or incomplete links fail here, before anything is
// started or dialled.
func NewJournal(cfg Config, links Links, a attest.Attester) (NewJournalFunc, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if links.KMS == nil || links.DynamoDB == nil || links.Host == nil || a == nil {
		return nil, fmt.Errorf("%w: the KMS and DynamoDB relays, the host services and an attester are required", ErrLinks)
	}
	roots := links.Roots
	if roots == nil {
		roots = AWSRoots()
	}
	log := links.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kmsHTTP, err := httpsVia(links.KMS, cfg.KMSEndpoint, roots)
	if err != nil {
		return nil, err
	}
	ddbHTTP, err := httpsVia(links.DynamoDB, cfg.DynamoDBEndpoint, roots)
	if err != nil {
		return nil, err
	}
	host := hostClient(links.Host)
	return func(ctx context.Context, l enclave.Log, rnd io.Reader, dim int) (enclave.Journal, error) {
		log.Info("sealed state: booting", "region", cfg.Region, "kms_key", cfg.KMSKeyARN,
			"counter_table", cfg.CounterTable, "counter", cfg.CounterName, "counter_credentials", string(cfg.CounterCredentials),
			"kms_endpoint", cfg.KMSEndpoint, "dynamodb_endpoint", cfg.DynamoDBEndpoint)
		rcpt, err := kms.NewRecipient(a)
		if err != nil {
			return nil, err
		}
		// Refetched five minutes before they expire, so no call is signed
		// with credentials about to lapse.
		instance := aws.NewCredentialsCache(hostCredentials{host}, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
		kmsAPI := kms.NewClient(kms.ClientOptions{Region: cfg.Region, Endpoint: cfg.KMSEndpoint, HTTPClient: kmsHTTP, Credentials: instance})
		var counterCreds aws.CredentialsProvider = instance
		if cfg.CounterCredentials == CounterSealed {
			if counterCreds, err = sealedCounterCredentials(ctx, host, kms.NewAWS(kmsAPI, cfg.KMSKeyARN, rcpt, CounterCredentialsContext)); err != nil {
				return nil, err
			}
			log.Info("sealed state: counter credentials opened inside the enclave")
		} else {
			log.Warn("sealed state: the rollback counter uses the parent's instance role; the operator can move it")
		}
		ddb := dynamodb.New(dynamodb.Options{
			Region: cfg.Region, BaseEndpoint: aws.String(cfg.DynamoDBEndpoint), Credentials: counterCreds,
			HTTPClient: ddbHTTP, AccountIDEndpointMode: aws.AccountIDEndpointModeDisabled,
		})
		var snaps state.SnapshotStore
		every := cfg.SnapshotEvery
		if every > 0 {
			snaps = state.NewHostSnapshots(links.Host, 0)
		} else {
			every = 0
		}
		return state.New(state.Options{
			Log: l, Snapshots: snaps,
			Keys:    kms.NewAWS(kmsAPI, cfg.KMSKeyARN, rcpt, DataKeyContext),
			Counter: state.NewDynamoCounter(ddb, cfg.CounterTable, cfg.CounterName),
			Rand:    rnd, Dim: dim, SnapshotEvery: every, Logger: log,
		})
	}, nil
}

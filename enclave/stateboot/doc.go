// Package stateboot wires the enclave's sealed state at boot: one code path
// for the production enclave (cmd/facesign-enclave) and the simulator
// (facesign sim-enclave). Given a [Config] (which KMS key, which region,
// which rollback counter) and [Links] (how to reach the parent's egress
// relays and host services), [NewJournal] returns the
// enclave.RunConfig.NewJournal that builds a [state.Journal]:
//
//   - the data key comes from KMS GenerateDataKey/Decrypt with a recipient
//     attestation (package enclave/kms), so only an enclave whose PCRs the
//     key policy names gets it;
//   - the rollback counter is a DynamoDB item moved by conditional writes
//     ([state.DynamoCounter]);
//   - snapshots go to the parent's host services ([state.HostSnapshots]).
//
// # Where the configuration comes from
//
// On Nitro, [FromEnv] reads it from the process environment, which the
// enclave's init takes from the application ramdisk's "env" file: it is
// part of the measured image (PCR2), so the untrusted parent cannot change
// which key or counter the enclave uses. Every FACESIGN_ variable must be
// known, and every value is checked strictly ([Config.Validate]); a bad one
// is [ErrConfig] naming the variable, before anything is dialled. Key ARNs
// must name a key (an alias can be re-pointed) in the configured region.
//
// # TLS inside the enclave
//
// The enclave has no network. Every KMS and DynamoDB request goes over a
// connection from [Links] (a vsock connection to a parent relay that
// forwards bytes to one fixed host:443) and runs TLS over it inside the
// enclave, to the regional endpoint's name, verified against [Links.Roots]
// — by default [AWSRoots], the public root bundle compiled into the binary
// (the enclave has no system trust store). The parent relays ciphertext:
// it cannot read or alter requests, responses, credentials or wrapped keys
// ([ErrTLS] if it tries to answer itself). Requests to any other host, or
// in plain HTTP, are refused.
//
// # Credentials
//
// KMS requests are signed with the parent instance role's temporary
// credentials, which the parent serves on its host services
// (wire.RouteAWSCredentials). They are no secret from the parent; they only
// authorise the call, and the key policy's PCR conditions decide whether
// key material is released (to the enclave's recipient key, never in the
// clear).
//
// The rollback counter must not be writable by the parent. With
// [CounterSealed] (the default) its credentials are a KMS ciphertext made
// by a key administrator under the same key with encryption context
// [CounterCredentialsContext]; the parent serves the ciphertext
// (wire.RouteCounterCredentials) and the enclave opens it through KMS with
// its attestation. The parent's role may not Encrypt under the key, so it
// cannot substitute credentials of its own. [CounterInstanceRole] uses the
// parent's credentials instead and is for trials only. docs/state.md has
// the key policy and the IAM conditions a deployment must set.
//
// # Caller duties
//
// Pass the attester of the running enclave (the NSM on Nitro); never pass
// links whose Roots trust a simulator CA to a production binary (the
// production binary only ever uses [Nitro]).
package stateboot

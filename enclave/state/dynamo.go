package state

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoAPI is the part of the DynamoDB client [DynamoCounter] calls;
// *dynamodb.Client satisfies it.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ DynamoAPI = (*dynamodb.Client)(nil)

// DynamoCounter is a [HeadCounter] in a DynamoDB item {id: name, n: value,
// head: "value:hex(chain hash)"}, moved only by conditional writes. The
// head attribute names the value it binds, so an item moved by
// [DynamoCounter.Advance] alone (which leaves head as it was) reads as
// unbound, never as binding a stale hash. It resists rollback only if the parent
// cannot write the item itself: its credentials must reach the enclave
// sealed (for example decrypted through KMS with the enclave's PCRs), the
// parent's instance role must not be allowed dynamodb:UpdateItem on the
// table, and TLS must end inside the enclave. See docs/state.md.
type DynamoCounter struct {
	api   DynamoAPI
	table string
	name  string
}

var _ HeadCounter = (*DynamoCounter)(nil)

// NewDynamoCounter returns the counter stored under name in table.
func NewDynamoCounter(api DynamoAPI, table, name string) *DynamoCounter {
	return &DynamoCounter{api: api, table: table, name: name}
}

func (d *DynamoCounter) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: d.name}}
}

// Load implements [Counter] with a strongly consistent read.
func (d *DynamoCounter) Load(ctx context.Context) (uint64, error) {
	h, err := d.LoadHead(ctx)
	return h.N, err
}

// ErrCounterItem reports a counter item of the wrong shape.
var ErrCounterItem = errors.New("state: counter item malformed")

// LoadHead implements [HeadCounter] with a strongly consistent read.
func (d *DynamoCounter) LoadHead(ctx context.Context) (Head, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), Key: d.key(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Head{}, fmt.Errorf("state: counter: %w", err)
	}
	if out.Item == nil {
		return Head{}, nil
	}
	n, ok := out.Item["n"].(*types.AttributeValueMemberN)
	if !ok {
		return Head{}, fmt.Errorf("%w: no number n", ErrCounterItem)
	}
	v, err := strconv.ParseUint(n.Value, 10, 64)
	if err != nil {
		return Head{}, fmt.Errorf("%w: value %q: %w", ErrCounterItem, n.Value, err)
	}
	h := Head{N: v}
	if a, ok := out.Item["head"]; ok {
		s, ok := a.(*types.AttributeValueMemberS)
		if !ok {
			return Head{}, fmt.Errorf("%w: head is not a string", ErrCounterItem)
		}
		hn, hash, err := parseHeadAttr(s.Value)
		if err != nil {
			return Head{}, err
		}
		if hn == v {
			h.Hash = hash
		}
	}
	return h, nil
}

// headAttr is the head attribute's value: "n:hex(hash)".
func headAttr(h Head) string {
	return strconv.FormatUint(h.N, 10) + ":" + hex.EncodeToString(h.Hash[:])
}

func parseHeadAttr(s string) (uint64, [32]byte, error) {
	var hash [32]byte
	num, hx, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || len(hx) != 64 {
		return 0, hash, fmt.Errorf("%w: head %q", ErrCounterItem, s)
	}
	if _, err := hex.Decode(hash[:], []byte(hx)); err != nil {
		return 0, hash, fmt.Errorf("%w: head %q", ErrCounterItem, s)
	}
	return n, hash, nil
}

// AdvanceHead implements [HeadCounter] with one conditional update:
// "SET n = :new, head = :head" if the item does not exist (old.N = 0), if
// "n = :old AND head = :oldhead" (old bound), or if "n = :old AND NOT
// begins_with(head, :oldprefix)" (old unbound: no head for old.N).
func (d *DynamoCounter) AdvanceHead(ctx context.Context, old, new Head) error {
	if new.N <= old.N || !new.Bound() {
		return ErrCounterArgs
	}
	in := &dynamodb.UpdateItemInput{
		TableName:        aws.String(d.table),
		Key:              d.key(),
		UpdateExpression: aws.String("SET n = :new, head = :head"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":new":  &types.AttributeValueMemberN{Value: strconv.FormatUint(new.N, 10)},
			":head": &types.AttributeValueMemberS{Value: headAttr(new)},
		},
	}
	switch {
	case old.N == 0:
		in.ConditionExpression = aws.String("attribute_not_exists(n)")
	case old.Bound():
		in.ConditionExpression = aws.String("n = :old AND head = :oldhead")
		in.ExpressionAttributeValues[":old"] = &types.AttributeValueMemberN{Value: strconv.FormatUint(old.N, 10)}
		in.ExpressionAttributeValues[":oldhead"] = &types.AttributeValueMemberS{Value: headAttr(old)}
	default:
		in.ConditionExpression = aws.String("n = :old AND NOT begins_with(head, :oldprefix)")
		in.ExpressionAttributeValues[":old"] = &types.AttributeValueMemberN{Value: strconv.FormatUint(old.N, 10)}
		in.ExpressionAttributeValues[":oldprefix"] = &types.AttributeValueMemberS{Value: strconv.FormatUint(old.N, 10) + ":"}
	}
	return d.update(ctx, in, old.N)
}

// Advance implements [Counter] with a conditional update.
func (d *DynamoCounter) Advance(ctx context.Context, old, new uint64) error {
	if new <= old {
		return ErrCounterArgs
	}
	in := &dynamodb.UpdateItemInput{
		TableName:        aws.String(d.table),
		Key:              d.key(),
		UpdateExpression: aws.String("SET n = :new"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":new": &types.AttributeValueMemberN{Value: strconv.FormatUint(new, 10)},
		},
	}
	if old == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(n)")
	} else {
		in.ConditionExpression = aws.String("n = :old")
		in.ExpressionAttributeValues[":old"] = &types.AttributeValueMemberN{Value: strconv.FormatUint(old, 10)}
	}
	return d.update(ctx, in, old)
}

func (d *DynamoCounter) update(ctx context.Context, in *dynamodb.UpdateItemInput, old uint64) error {
	_, err := d.api.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: expected %d", ErrCounterConflict, old)
	}
	if err != nil {
		return fmt.Errorf("state: counter: %w", err)
	}
	return nil
}

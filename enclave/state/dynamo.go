package state

import (
	"context"
	"errors"
	"fmt"
	"strconv"

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

// DynamoCounter is a [Counter] in a DynamoDB item {id: name, n: value},
// moved only by conditional writes. It resists rollback only if the parent
// cannot write the item itself: its credentials must reach the enclave
// sealed (for example decrypted through KMS with the enclave's PCRs), the
// parent's instance role must not be allowed dynamodb:UpdateItem on the
// table, and TLS must end inside the enclave. See docs/state.md.
type DynamoCounter struct {
	api   DynamoAPI
	table string
	name  string
}

var _ Counter = (*DynamoCounter)(nil)

// NewDynamoCounter returns the counter stored under name in table.
func NewDynamoCounter(api DynamoAPI, table, name string) *DynamoCounter {
	return &DynamoCounter{api: api, table: table, name: name}
}

func (d *DynamoCounter) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: d.name}}
}

// Load implements [Counter] with a strongly consistent read.
func (d *DynamoCounter) Load(ctx context.Context) (uint64, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), Key: d.key(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("state: counter: %w", err)
	}
	if out.Item == nil {
		return 0, nil
	}
	n, ok := out.Item["n"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("state: counter item has no number n")
	}
	v, err := strconv.ParseUint(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("state: counter value %q: %w", n.Value, err)
	}
	return v, nil
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

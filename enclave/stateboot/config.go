package stateboot

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/facesign/facesign/vectors"
)

// Environment variables of the measured image (the EIF's application
// ramdisk "env" file; scripts/eif.sh bakes them). They are part of PCR2, so
// a client pinning the image pins them too; the parent cannot change them.
const (
	EnvRegion             = "FACESIGN_REGION"              // AWS region of KMS and DynamoDB, e.g. eu-west-1 (required)
	EnvKMSKeyARN          = "FACESIGN_KMS_KEY_ARN"         // key ARN (not an alias) wrapping the data key (required)
	EnvCounterTable       = "FACESIGN_COUNTER_TABLE"       // DynamoDB table name or ARN of the rollback counter (required)
	EnvCounterName        = "FACESIGN_COUNTER_NAME"        // the counter item's id (default "gallery")
	EnvCounterCredentials = "FACESIGN_COUNTER_CREDENTIALS" // "sealed" (default) or "instance-role"
	EnvSnapshotEvery      = "FACESIGN_SNAPSHOT_EVERY"      // records between snapshots; "0" disables (default 10000)
	EnvKMSEndpoint        = "FACESIGN_KMS_ENDPOINT"        // https URL overriding https://kms.REGION.amazonaws.com
	EnvDynamoDBEndpoint   = "FACESIGN_DYNAMODB_ENDPOINT"   // https URL overriding https://dynamodb.REGION.amazonaws.com
	EnvEngine             = "FACESIGN_ENGINE"              // the face engine (default: enclave.DefaultEngine)
	EnvNextEngine         = "FACESIGN_NEXT_ENGINE"         // the engine the gallery migrates to (docs/fleet.md); unset: none
	// EnvCPU caps the vector kernels' instruction-set level: generic, avx2
	// or avx512 on amd64, generic or neon on arm64 (default: the best the
	// CPU has). The kernels read it
	// themselves at process start (vectors.KernelEnv); it is listed here so
	// that it is measured and checked like the other settings.
	EnvCPU = vectors.KernelEnv
)

// envPrefix marks the variables [FromEnv] owns: an unknown one is an error,
// so a misspelt setting never silently falls back to a default.
const envPrefix = "FACESIGN_"

// CounterCredentials says which AWS credentials sign the rollback counter's
// DynamoDB calls.
type CounterCredentials string

const (
	// CounterSealed: credentials a key administrator encrypted under the
	// KMS key (encryption context [CounterCredentialsContext]); the parent
	// serves the ciphertext and the enclave opens it through KMS with its
	// attestation. The parent never holds them, so it cannot move the
	// counter. The default.
	CounterSealed CounterCredentials = "sealed"
	// CounterInstanceRole: the parent's instance-role credentials. The
	// parent can then write the counter itself: rollback detection holds
	// against a faulty parent, not against the operator. For trials only.
	CounterInstanceRole CounterCredentials = "instance-role"
)

// DefaultCounterName is the counter item's id when none is configured.
const DefaultCounterName = "gallery"

// DefaultSnapshotEvery is the number of records between snapshots.
const DefaultSnapshotEvery = 10000

// Encryption contexts bound into the KMS ciphertexts (the key policy
// names them; docs/state.md).
var (
	DataKeyContext            = map[string]string{"facesign:purpose": "gallery-state"}
	CounterCredentialsContext = map[string]string{"facesign:purpose": "counter-credentials"}
)

// Config is the enclave's sealed-state configuration: everything that
// decides which key, which counter and which endpoints the enclave trusts.
// In production it comes from the measured image ([FromEnv]); the simulator
// fills it from sim-enclave's flags. [Config.Validate] checks it.
type Config struct {
	Region             string
	KMSKeyARN          string
	CounterTable       string // table name, or table ARN (pins the account)
	CounterName        string // "" means [DefaultCounterName]
	CounterCredentials CounterCredentials
	// SnapshotEvery is the number of records between snapshots; 0 means
	// [DefaultSnapshotEvery], negative disables snapshots.
	SnapshotEvery int
	// KMSEndpoint and DynamoDBEndpoint override the regional endpoints
	// (https URLs without a path); empty means https://SERVICE.REGION.amazonaws.com
	// (.amazonaws.com.cn in China regions).
	KMSEndpoint, DynamoDBEndpoint string
	// Engine names the face engine ("" means enclave.DefaultEngine), and
	// NextEngine the engine an engine migration moves the gallery to ("":
	// none). Both must be registered (vectors.Engines); they are measured
	// with the rest, so which engines an image runs is part of its PCRs.
	Engine, NextEngine string
	// CPU is the FACESIGN_CPU kernel level cap ("" = the best the CPU has).
	// It is checked here by name only: the machine that builds the image
	// is not the one that runs it, and the enclave binary refuses to boot
	// on a level its CPU lacks.
	CPU string
}

// ErrConfig reports an invalid [Config] or environment. Its message names the
// setting and what is wrong with it.
var ErrConfig = errors.New("stateboot: bad configuration")

func bad(setting, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrConfig, setting, fmt.Sprintf(format, args...))
}

var (
	regionRE    = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	keyIDRE     = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	tableRE     = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	counterIDRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
	partitions  = map[string]bool{"aws": true, "aws-cn": true, "aws-us-gov": true}
)

// arn splits arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
func arn(s, service, setting, region string) (resource string, err error) {
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return "", bad(setting, "%q is not an ARN (arn:aws:%s:REGION:ACCOUNT:...)", s, service)
	}
	switch {
	case !partitions[f[1]]:
		return "", bad(setting, "unknown partition %q", f[1])
	case f[2] != service:
		return "", bad(setting, "ARN of service %q, want %s", f[2], service)
	case f[3] != region:
		return "", bad(setting, "ARN in region %q, but %s is %q", f[3], EnvRegion, region)
	case !accountRE.MatchString(f[4]):
		return "", bad(setting, "account %q is not 12 digits", f[4])
	}
	return f[5], nil
}

// Validate checks c and fills its defaults. It never contacts anything.
func (c *Config) Validate() error {
	if c.CPU != "" {
		if err := vectors.CheckKernelLevel(c.CPU); err != nil {
			return bad(EnvCPU, "%q: want generic, avx2, avx512 or neon", c.CPU)
		}
	}
	if c.Region == "" {
		return bad(EnvRegion, "missing")
	}
	if !regionRE.MatchString(c.Region) {
		return bad(EnvRegion, "%q is not an AWS region name", c.Region)
	}
	if c.KMSKeyARN == "" {
		return bad(EnvKMSKeyARN, "missing")
	}
	res, err := arn(c.KMSKeyARN, "kms", EnvKMSKeyARN, c.Region)
	if err != nil {
		return err
	}
	id, ok := strings.CutPrefix(res, "key/")
	switch {
	case strings.HasPrefix(res, "alias/"):
		return bad(EnvKMSKeyARN, "an alias can be re-pointed by whoever manages aliases; name the key (key/ID)")
	case !ok || !keyIDRE.MatchString(id):
		return bad(EnvKMSKeyARN, "resource %q is not key/ID", res)
	}
	if c.CounterTable == "" {
		return bad(EnvCounterTable, "missing")
	}
	if strings.HasPrefix(c.CounterTable, "arn:") {
		res, err := arn(c.CounterTable, "dynamodb", EnvCounterTable, c.Region)
		if err != nil {
			return err
		}
		name, ok := strings.CutPrefix(res, "table/")
		if !ok || !tableRE.MatchString(name) {
			return bad(EnvCounterTable, "resource %q is not table/NAME", res)
		}
	} else if !tableRE.MatchString(c.CounterTable) {
		return bad(EnvCounterTable, "%q is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)", c.CounterTable)
	}
	if c.CounterName == "" {
		c.CounterName = DefaultCounterName
	}
	if !counterIDRE.MatchString(c.CounterName) {
		return bad(EnvCounterName, "%q: want 1-128 of A-Z a-z 0-9 _ . : -", c.CounterName)
	}
	switch c.CounterCredentials {
	case "":
		c.CounterCredentials = CounterSealed
	case CounterSealed, CounterInstanceRole:
	default:
		return bad(EnvCounterCredentials, "%q: want %s or %s", c.CounterCredentials, CounterSealed, CounterInstanceRole)
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	registered := vectors.Engines()
	for _, e := range []struct{ setting, v string }{{EnvEngine, c.Engine}, {EnvNextEngine, c.NextEngine}} {
		if e.v != "" && !slices.Contains(registered, e.v) {
			return bad(e.setting, "%q is not a registered engine (%s)", e.v, strings.Join(registered, ", "))
		}
	}
	if c.NextEngine != "" && c.NextEngine == c.Engine {
		return bad(EnvNextEngine, "%q is the engine in use", c.NextEngine)
	}
	for _, e := range []struct {
		setting, service string
		v                *string
	}{{EnvKMSEndpoint, "kms", &c.KMSEndpoint}, {EnvDynamoDBEndpoint, "dynamodb", &c.DynamoDBEndpoint}} {
		if *e.v == "" {
			*e.v = "https://" + defaultHost(e.service, c.Region)
			continue
		}
		u, err := url.Parse(*e.v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.Port() != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return bad(e.setting, "%q: want https://HOST (TLS ends inside the enclave, on port 443)", *e.v)
		}
		*e.v = "https://" + u.Host
	}
	return nil
}

// defaultHost is the regional endpoint host of service.
func defaultHost(service, region string) string {
	if strings.HasPrefix(region, "cn-") {
		return service + "." + region + ".amazonaws.com.cn"
	}
	return service + "." + region + ".amazonaws.com"
}

// FromEnv reads the configuration from environ ("KEY=VALUE" entries, as
// os.Environ returns) and validates it. Every FACESIGN_ variable must be one
// this package knows.
func FromEnv(environ []string) (Config, error) {
	known := map[string]bool{}
	for _, k := range []string{EnvRegion, EnvKMSKeyARN, EnvCounterTable, EnvCounterName, EnvCounterCredentials, EnvSnapshotEvery, EnvKMSEndpoint, EnvDynamoDBEndpoint, EnvEngine, EnvNextEngine, EnvCPU} {
		known[k] = true
	}
	env := map[string]string{}
	var unknown []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, envPrefix) {
			continue
		}
		if !known[k] {
			unknown = append(unknown, k)
			continue
		}
		env[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Config{}, bad(strings.Join(unknown, ", "), "unknown setting")
	}
	c := Config{
		Region:             env[EnvRegion],
		KMSKeyARN:          env[EnvKMSKeyARN],
		CounterTable:       env[EnvCounterTable],
		CounterName:        env[EnvCounterName],
		CounterCredentials: CounterCredentials(env[EnvCounterCredentials]),
		KMSEndpoint:        env[EnvKMSEndpoint],
		DynamoDBEndpoint:   env[EnvDynamoDBEndpoint],
		Engine:             env[EnvEngine],
		NextEngine:         env[EnvNextEngine],
		CPU:                env[EnvCPU],
	}
	if s, ok := env[EnvSnapshotEvery]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100_000_000 {
			return Config{}, bad(EnvSnapshotEvery, "%q: want a record count, 0 to disable", s)
		}
		c.SnapshotEvery = n
		if n == 0 {
			c.SnapshotEvery = -1
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Env returns c as FromEnv reads it ("KEY=VALUE" lines for the image's env
// file), omitting defaults.
func (c Config) Env() []string {
	out := []string{EnvRegion + "=" + c.Region, EnvKMSKeyARN + "=" + c.KMSKeyARN, EnvCounterTable + "=" + c.CounterTable}
	if c.CounterName != "" && c.CounterName != DefaultCounterName {
		out = append(out, EnvCounterName+"="+c.CounterName)
	}
	if c.CounterCredentials != "" && c.CounterCredentials != CounterSealed {
		out = append(out, EnvCounterCredentials+"="+string(c.CounterCredentials))
	}
	switch {
	case c.SnapshotEvery < 0:
		out = append(out, EnvSnapshotEvery+"=0")
	case c.SnapshotEvery > 0 && c.SnapshotEvery != DefaultSnapshotEvery:
		out = append(out, EnvSnapshotEvery+"="+strconv.Itoa(c.SnapshotEvery))
	}
	if c.KMSEndpoint != "" && c.KMSEndpoint != "https://"+defaultHost("kms", c.Region) {
		out = append(out, EnvKMSEndpoint+"="+c.KMSEndpoint)
	}
	if c.DynamoDBEndpoint != "" && c.DynamoDBEndpoint != "https://"+defaultHost("dynamodb", c.Region) {
		out = append(out, EnvDynamoDBEndpoint+"="+c.DynamoDBEndpoint)
	}
	if c.Engine != "" {
		out = append(out, EnvEngine+"="+c.Engine)
	}
	if c.NextEngine != "" {
		out = append(out, EnvNextEngine+"="+c.NextEngine)
	}
	if c.CPU != "" {
		out = append(out, EnvCPU+"="+c.CPU)
	}
	return out
}

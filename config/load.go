package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/callback-router/callback-router/redact"
)

// EnvPrefix prefixes the environment variables that override keys:
// CALLBACK_ROUTER_TENCENT_AUTH_TOKEN sets tencent.auth_token.
const EnvPrefix = "CALLBACK_ROUTER"

// EnvConfigPath names the environment variable that gives the config file when -config does not.
const EnvConfigPath = "CALLBACK_ROUTER_CONFIG"

// DefaultPath is the config file used when neither -config nor $CALLBACK_ROUTER_CONFIG is set.
const DefaultPath = "config.yaml"

// ResolvePath picks the config file: the flag, else $CALLBACK_ROUTER_CONFIG, else ./config.yaml.
func ResolvePath(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv(EnvConfigPath); p != "" {
		return p
	}
	return DefaultPath
}

// LoadFile reads, decodes and validates the YAML file at path, with environment overrides.
// The error joins every problem found, each naming its key.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		// An editor's in-place write can be seen half done; an empty file is never a config.
		return nil, fmt.Errorf("config: %s is empty", path)
	}
	return parse(bytes.NewReader(data), true)
}

// Parse decodes and validates a YAML config from r, without environment overrides. It is
// what tests and tools use to check a config that is not a file.
func Parse(r io.Reader) (*Config, error) {
	return parse(r, false)
}

// newViper returns a viper that knows every key's default and, withEnv, reads the
// environment's overrides.
func newViper(withEnv bool) *viper.Viper {
	v := viper.New()
	v.SetConfigType("yaml")
	for key, value := range defaultSettings() {
		v.SetDefault(key, value)
	}
	if withEnv {
		v.SetEnvPrefix(EnvPrefix)
		v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
		v.AutomaticEnv()
		// AutomaticEnv answers only for keys viper knows of, and a key with no default
		// (defaults.fallback.error_code) is known only when the file sets it: bind every key,
		// so that the environment can set it too.
		for _, key := range Keys() {
			_ = v.BindEnv(key) // fails only when given no key
		}
	}
	return v
}

// AdminListenOf returns server.admin_listen as the file at path and the environment set it,
// without validating anything else. It is for a health check, which must find the running
// router's admin listener even when the file on disk holds a config the router refused.
func AdminListenOf(path string) (string, error) {
	v := newViper(true)
	data, err := ReadRegularFile(path)
	if errors.Is(err, ErrNotRegularFile) {
		return "", fmt.Errorf("config: %w (a config handed over through a pipe is read once, by the router)", err)
	}
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("config: not valid YAML: %s", redact.Text(err.Error()))
	}
	return v.GetString("server.admin_listen"), nil
}

func parse(r io.Reader, withEnv bool) (*Config, error) {
	v := newViper(withEnv)
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config: not valid YAML: %s", redact.Text(err.Error()))
	}
	// Decode leniently, then validate what did decode: an unknown key (a misspelling, most
	// often) or a value of the wrong type must not hide the other problems of the file.
	hooks := decodeHooks()
	cfg := new(Config)
	var found, undecoded []error
	// A strict decode, into a Config thrown away, lists the unknown keys. (mapstructure's
	// metadata cannot: it omits those of a struct that has a field of the wrong type, and a
	// strict decode drops a map entry with an unknown key, so neither pass alone serves.)
	if err := v.UnmarshalExact(new(Config), hooks); err != nil {
		found = unknownKeys(err)
	}
	if err := v.Unmarshal(cfg, hooks); err != nil {
		undecoded = decodeProblems(err)
		found = append(found, undecoded...)
	}
	cfg.keepUndecodedUpstreams(v.GetStringMap("upstreams"))
	cfg.applyUpstreamDefaults()
	cfg.applyAppDefaults()
	var validated problems
	rewrittenNumbers(&validated, data)
	cfg.readSecrets(&validated)
	cfg.validate(&validated)
	found = append(found, unrelatedTo(undecoded, validated)...)
	if len(found) > 0 {
		return nil, errors.Join(found...)
	}
	return cfg, nil
}

// decodeHooks are what decoding does beyond mapstructure's own conversions: durations only
// with a unit, a comma-separated string as a list, unsigned keys from whole numbers only.
func decodeHooks() viper.DecoderConfigOption {
	return viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		durationHook,
		listHook,
		wholeNumberHook,
	))
}

// listHook reads a string given for a list key as its comma-separated elements: how an
// environment variable sets a list (CALLBACK_ROUTER_TENCENT_SDK_APP_IDS=1400000001,1400000002).
// mapstructure's StringToSliceHookFunc splits only for a list of strings; a list of numbers
// took the whole string as its one element and refused it. Each element is then decoded
// as the list's type (wholeNumberHook for numbers).
func listHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice || to.Elem().Kind() == reflect.Uint8 {
		return data, nil
	}
	if s := reflect.ValueOf(data).String(); s != "" {
		return strings.Split(s, ","), nil
	}
	return []string{}, nil
}

// keepUndecodedUpstreams puts back, empty, an upstream whose entry did not decode, so that
// the routes naming it are not also reported as naming a missing upstream.
func (c *Config) keepUndecodedUpstreams(raw map[string]any) {
	for name := range raw {
		if _, ok := c.Upstreams[name]; ok {
			continue
		}
		if c.Upstreams == nil {
			c.Upstreams = map[string]Upstream{}
		}
		c.Upstreams[name] = Upstream{}
	}
}

// unknownKeys picks the "has invalid keys" problems out of a strict decode's error, one
// problem per key, saying what replaced a key older configs still carry.
func unknownKeys(err error) []error {
	var out []error
	for _, e := range decodeProblems(err) {
		var p Problem
		if !errors.As(e, &p) {
			continue
		}
		names, ok := strings.CutPrefix(p.Message, invalidKeysPrefix)
		if !ok {
			continue
		}
		for _, name := range strings.Split(names, ", ") {
			k := name
			if p.Key != "" {
				k = p.Key + "." + name
			}
			if now, ok := renamedKeys[k]; ok {
				out = append(out, Problem{Key: k, Message: "no longer a key: " + now})
				continue
			}
			out = append(out, Problem{Key: k, Message: "unknown key (check its spelling and where it is nested)"})
		}
	}
	return out
}

// unrelatedTo drops the validation problems about a key that failed to decode, or about one
// of its parents or children: a value that did not decode is left at its zero value, and
// validation would only repeat the decode problem in a more confusing way.
func unrelatedTo(undecoded, validated []error) []error {
	var failed []string
	for _, e := range undecoded {
		var p Problem
		if errors.As(e, &p) {
			failed = append(failed, p.Key)
		}
	}
	var out []error
	for _, e := range validated {
		var p Problem
		if errors.As(e, &p) && slices.ContainsFunc(failed, func(k string) bool { return keysRelated(k, p.Key) }) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// keysRelated reports whether a and b are the same key or one is nested under the other.
func keysRelated(a, b string) bool {
	nested := func(child, parent string) bool {
		rest, ok := strings.CutPrefix(child, parent)
		return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
	}
	return nested(a, b) || nested(b, a)
}

// applyUpstreamDefaults gives each key an upstream leaves at zero DefaultUpstream's value.
func (c *Config) applyUpstreamDefaults() {
	def := DefaultUpstream()
	for name, u := range c.Upstreams {
		if u.MaxConns == 0 {
			u.MaxConns = def.MaxConns
		}
		if u.MaxResponseBytes == 0 {
			u.MaxResponseBytes = def.MaxResponseBytes
		}
		c.Upstreams[name] = u
	}
}

var durationType = reflect.TypeFor[time.Duration]()

// durationHook decodes durations from Go duration strings only. A bare number would decode
// as nanoseconds ("timeout: 5" is 5ns), which is never what an operator meant; 0 is allowed.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType || from == durationType {
		return data, nil // not a duration, or already one (a default)
	}
	switch from.Kind() {
	case reflect.String:
		s := strings.TrimSpace(data.(string))
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration: write it with a unit, e.g. \"1500ms\" or \"2s\"", s)
		}
		return d, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if reflect.ValueOf(data).IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("%v has no unit: write a duration such as \"%vms\" or \"%vs\"", data, data, data)
	}
	return data, nil
}

// wholeNumberHook decodes the integer keys (an SdkAppid, a breaker's counts, retries, a
// limit) from whole numbers only. viper's weakly typed decode would otherwise wrap a
// negative number around or overflow a large one, truncate a float (retries: 1.5 is 1),
// take true for 1 and read a quoted "0x…" or "0…" as hex or octal: each a config that
// loads and means another number than the one written (an SdkAppid nobody sends, a
// breaker that never opens, a limit that went negative). A whole number is taken however
// YAML writes it (1e4, 2.0). Durations, which are integers too, are durationHook's; other
// kinds (a list, a map) are left to mapstructure's own message; no message quotes the
// value.
func wholeNumberHook(from, to reflect.Type, data any) (any, error) {
	var lo int64 // the range of to: [lo, hi]
	var hi uint64
	switch to.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		lo, hi = 0, uint64(math.MaxUint64)>>(64-to.Bits())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if to == durationType {
			return data, nil
		}
		lo, hi = int64(-1)<<(to.Bits()-1), uint64(1)<<(to.Bits()-1)-1
	default:
		return data, nil
	}
	fits := func(i int64) bool { return i >= lo && (i < 0 || uint64(i) <= hi) }
	v := reflect.ValueOf(data)
	ok := true
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		ok = fits(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		ok = v.Uint() <= hi
	case reflect.Float32, reflect.Float64:
		// Above 2^53 a float64 no longer holds every whole number: 1e30 is no SdkAppid.
		f := v.Float()
		ok = f == math.Trunc(f) && math.Abs(f) <= 1<<53 && fits(int64(f))
	case reflect.Bool:
		ok = false
	case reflect.String:
		// Parsed here, in decimal: mapstructure would read "010" as octal.
		text := strings.TrimSpace(v.String())
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			data, ok = i, fits(i)
		} else if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			data, ok = u, u <= hi
		} else {
			ok = false
		}
	}
	if !ok {
		if lo == 0 {
			return nil, fmt.Errorf("is not a whole number from 0 to %d, written in decimal", hi)
		}
		return nil, fmt.Errorf("is not a whole number from %d to %d, written in decimal", lo, hi)
	}
	return data, nil
}

// decodeProblems turns mapstructure's error into one problem per key. mapstructure joins
// (errors.Join) one *mapstructure.DecodeError per value it could not decode; each names its
// key (Name) and wraps what is wrong with it, so neither is read back out of the text.
// Anything else is reported as it reads.
func decodeProblems(err error) []error {
	var out []error
	for _, e := range decodeErrors(err) {
		var de *mapstructure.DecodeError
		if !errors.As(e, &de) {
			out = append(out, errors.New("config: "+redact.Text(e.Error())))
			continue
		}
		msg := "is not valid"
		if inner := de.Unwrap(); inner != nil {
			msg = inner.Error()
		}
		out = append(out, Problem{Key: docKey(de.Name()), Message: redact.Text(msg)})
	}
	if len(out) == 0 {
		return []error{fmt.Errorf("config: %s", redact.Text(err.Error()))}
	}
	return out
}

// decodeErrors flattens the tree of a decode's error: the joins, and the error Decode wraps
// them in ("decoding failed due to the following error(s)"), down to each
// *mapstructure.DecodeError, which is a leaf.
func decodeErrors(err error) []error {
	if _, ok := err.(*mapstructure.DecodeError); ok {
		return []error{err}
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range u.Unwrap() {
			out = append(out, decodeErrors(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return decodeErrors(inner)
		}
	}
	return []error{err}
}

// invalidKeysPrefix starts the message of a strict decode's DecodeError about keys the
// struct has no field for; the keys follow, separated by ", ". mapstructure has no field
// for them, so this is read from the text: TestMapstructureErrorShapes fails if an upgrade
// changes it.
const invalidKeysPrefix = "has invalid keys: "

// docKey spells mapstructure's name of a key as Validate and the docs do. mapstructure (from
// 2.5) names the top level by its Go type, which is the empty key here, and an entry of the
// upstreams map "upstreams[gifts]", which is "upstreams.gifts" here.
func docKey(name string) string {
	if name == rootName {
		return ""
	}
	if rest, ok := strings.CutPrefix(name, "upstreams["); ok {
		if entry, tail, ok := strings.Cut(rest, "]"); ok {
			return "upstreams." + entry + tail
		}
	}
	return name
}

// renamedKeys says what replaced a key that older configs still carry.
var renamedKeys = map[string]string{
	"delivery.queue_size": "the delivery store is bounded by delivery.max_items and delivery.max_bytes",
}

// rootName is how mapstructure (from 2.5) names the top level of the file in its errors.
var rootName = reflect.TypeFor[Config]().String()

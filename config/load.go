package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
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

func parse(r io.Reader, withEnv bool) (*Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	for key, value := range defaultValues {
		v.SetDefault(key, value)
	}
	if withEnv {
		v.SetEnvPrefix(EnvPrefix)
		v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
		v.AutomaticEnv()
	}
	if err := v.ReadConfig(r); err != nil {
		return nil, fmt.Errorf("config: not valid YAML: %w", err)
	}
	cfg := new(Config)
	hooks := viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		durationHook,
		mapstructure.StringToSliceHookFunc(","),
	))
	if err := v.UnmarshalExact(cfg, hooks); err != nil {
		return nil, decodeError(err)
	}
	cfg.applyUpstreamDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) applyUpstreamDefaults() {
	for name, u := range c.Upstreams {
		if u.MaxConns == 0 {
			u.MaxConns = DefaultMaxConns
		}
		if u.MaxResponseBytes == 0 {
			u.MaxResponseBytes = DefaultMaxResponseBytes
		}
		c.Upstreams[name] = u
	}
}

var durationType = reflect.TypeFor[time.Duration]()

// durationHook decodes durations from Go duration strings only. A bare number would decode
// as nanoseconds ("timeout: 5" is 5ns), which is never what an operator meant; 0 is allowed.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
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

// decodeError rewrites mapstructure's errors into one line per problem, each starting with
// the key it concerns: "'server' has invalid keys: lisen" becomes "server.lisen: unknown key".
func decodeError(err error) error {
	var problems []error
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "*"))
		if line == "" || strings.HasPrefix(line, "decoding failed due to the following error") ||
			strings.HasSuffix(line, "error(s) decoding:") {
			continue
		}
		m := mapstructureLine.FindStringSubmatch(line)
		if m == nil {
			problems = append(problems, errors.New(line))
			continue
		}
		key, msg := mapKey.ReplaceAllString(m[1], "upstreams.$1"), m[2]
		if key == rootName {
			key = "" // mapstructure 2.5 names the top level by its Go type
		}
		if names, ok := strings.CutPrefix(msg, "has invalid keys: "); ok {
			for _, name := range strings.Split(names, ", ") {
				k := joinKey(key, name)
				if now, ok := renamedKeys[k]; ok {
					problems = append(problems, fmt.Errorf("%s: no longer a key: %s", k, now))
					continue
				}
				problems = append(problems, fmt.Errorf("%s: unknown key (check its spelling and where it is nested)", k))
			}
			continue
		}
		problems = append(problems, fmt.Errorf("%s: %s", key, msg))
	}
	if len(problems) == 0 {
		return fmt.Errorf("config: %w", err)
	}
	return errors.Join(problems...)
}

// renamedKeys says what replaced a key that older configs still carry.
var renamedKeys = map[string]string{
	"delivery.queue_size": "the delivery store is bounded by delivery.max_items and delivery.max_bytes",
}

// rootName is how mapstructure (from 2.5) spells the top level of the file in its errors.
var rootName = reflect.TypeFor[Config]().String()

// mapstructureLine matches mapstructure's "'key' message" error lines.
var mapstructureLine = regexp.MustCompile(`^'([^']*)' (.*)$`)

// mapKey matches mapstructure's spelling of an upstream's key, "upstreams[gifts]", which
// Validate and the docs spell "upstreams.gifts".
var mapKey = regexp.MustCompile(`^upstreams\[([^\]]*)\]`)

func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

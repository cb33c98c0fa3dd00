package config

import (
	"reflect"
	"strings"
)

// A Setting is one key of a config, spelled as in the file ("server.tls.acme.ca"), with
// its value.
type Setting struct {
	Key   string
	Value any
}

// Settings lists the keys of c with their values, in the order of Config's fields: the
// fields of a struct by their mapstructure tags (a squashed one at its parent's level), a
// set pointer as what it points to, an unset list as an empty one. Maps and lists of
// structs (upstreams, routes, tencent.apps) and unset pointers are left out: they are not
// single keys. It is how Default feeds viper, and how a reload tells which keys changed.
func Settings(c *Config) []Setting {
	var out []Setting
	addSettings(&out, "", reflect.ValueOf(*c))
	return out
}

func addSettings(out *[]Setting, key string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			addSettings(out, key, v.Elem())
		}
		return
	case reflect.Map:
		return
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			return
		}
		if v.IsNil() {
			v = reflect.MakeSlice(v.Type(), 0, 0)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			switch {
			case name == "-" || !f.IsExported():
			case opts == "squash":
				addSettings(out, key, v.Field(i))
			default:
				if name == "" {
					name = strings.ToLower(f.Name) // mapstructure's default, as viper spells keys
				}
				addSettings(out, strings.TrimPrefix(key+"."+name, "."), v.Field(i))
			}
		}
		return
	}
	*out = append(*out, Setting{Key: key, Value: v.Interface()})
}

// Keys lists every single key a config can have, those under pointers c leaves unset
// included (defaults.fallback.error_code has no default): Settings over a Config whose every
// pointer is set. Maps and lists of structs are still left out.
func Keys() []string {
	full := reflect.New(reflect.TypeFor[Config]()).Elem()
	setEveryPointer(full)
	var keys []string
	for _, s := range Settings(full.Addr().Interface().(*Config)) {
		keys = append(keys, s.Key)
	}
	return keys
}

// setEveryPointer points every nil pointer field of the struct v, at any depth, at a zero
// value of its type.
func setEveryPointer(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if f.Kind() == reflect.Pointer && f.IsNil() {
			f.Set(reflect.New(f.Type().Elem()))
		}
		if f.Kind() == reflect.Pointer {
			f = f.Elem()
		}
		if f.Kind() == reflect.Struct {
			setEveryPointer(f)
		}
	}
}

// Package config defines callback-router's configuration file, loads it with viper (file plus
// CALLBACK_ROUTER_* environment overrides), decodes it strictly into a fresh Config and
// validates it, reporting every problem at once with the key it concerns. It builds nothing
// that runs: package router compiles a validated Config into the table the request path uses.
package config

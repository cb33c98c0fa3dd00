// Package config defines callback-router's configuration file, loads it with viper (file plus
// CALLBACK_ROUTER_* environment overrides), decodes it strictly into a fresh Config and
// validates it, reporting every problem at once with the key it concerns. It builds nothing
// that runs: package router compiles a validated Config into the table the request path uses.
//
// Every key's default is in one place, Default, which viper is fed from; what a route and
// an upstream inherit from the defaults section is stated once, by Policy.Inherit and
// Breaker.Inherit.
package config

// Command callback-router receives every Tencent Cloud Live and Chat callback, routes it by
// CallbackCommand to the app's upstream services with deadlines, retries and circuit
// breakers, and answers Tencent itself, in time, when an upstream cannot. See README.md.
package main

import (
	"context"
	"os"

	"github.com/callback-router/callback-router/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

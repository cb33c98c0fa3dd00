package cli

import (
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X github.com/callback-router/callback-router/cli.Version=v1.2.3";
// otherwise it is read from the module's build information.
var Version = ""

func versionLine() string {
	v := Version
	if v == "" {
		v = "devel"
		if info, ok := debug.ReadBuildInfo(); ok {
			if info.Main.Version != "" && info.Main.Version != "(devel)" {
				v = info.Main.Version
			}
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v += " " + s.Value[:12]
				}
			}
		}
	}
	return "callback-router " + v + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

package cli

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Version, Commit and Date are stamped at build time by the Makefile:
//
//	go build -ldflags "-X github.com/callback-router/callback-router/cli.Version=v1.2.3
//	  -X github.com/callback-router/callback-router/cli.Commit=0123abc
//	  -X github.com/callback-router/callback-router/cli.Date=2026-11-29T00:00:00Z"
//
// Left empty (go run, go install, go build without flags), they are read from the build
// information Go embeds: the module's version when installed at a tag, the VCS revision
// and commit time when built from a checkout.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// buildInfo is what `version` prints.
type buildInfo struct {
	version, commit, date string
	modified              bool // built from a checkout with uncommitted changes
}

// currentBuild merges the stamped values with the embedded build information, the stamp
// winning key by key.
func currentBuild() buildInfo {
	b := buildInfo{version: Version, commit: Commit, date: Date}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b.withDefaults()
	}
	if b.version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.commit == "" {
				b.commit = s.Value
			}
		case "vcs.time":
			if b.date == "" {
				b.date = s.Value
			}
		case "vcs.modified":
			b.modified = Commit == "" && s.Value == "true"
		}
	}
	return b.withDefaults()
}

func (b buildInfo) withDefaults() buildInfo {
	if b.version == "" {
		b.version = "devel"
	}
	if b.commit == "" {
		b.commit = "unknown"
	}
	if len(b.commit) > 12 && !strings.ContainsAny(b.commit, "-+ ") {
		b.commit = b.commit[:12] // a full hash; the short one is what people compare
	}
	if b.modified {
		b.commit += "-dirty"
	}
	if b.date == "" {
		b.date = "unknown"
	}
	return b
}

// versionLine is one line: the version, the commit and build date, then Go and the platform.
func versionLine() string {
	b := currentBuild()
	return "callback-router " + b.version + " (commit " + b.commit + ", built " + b.date + ") " +
		runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

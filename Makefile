# Builds, images and release archives of callback-router. Every binary is stamped with
# the version, commit and build date (`callback-router version` prints them):
#
#   make                  build ./callback-router for this machine
#   make test             the README's test command
#   make image            the container image callback-router:$(VERSION) and :latest
#   make image-examples   the example upstream's image, for the sidecar demo
#   make dist             release archives for every platform in dist/, with SHA256SUMS
#
# VERSION defaults to `git describe`; override it for a release: make dist VERSION=v1.2.0.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit's own date, not the clock's: two builds of one commit are the same build.
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)

PKG     := github.com/callback-router/callback-router/cli
LDFLAGS := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)
# Static binaries without the build machine's paths: they run FROM scratch and anywhere.
GOBUILD := CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)"

.PHONY: build test clean
build:
	$(GOBUILD) -o callback-router .

test:
	go test -race ./...

clean:
	rm -rf callback-router build dist

# callback-router's container image: the static binary FROM scratch, so nothing is pulled
# from an image registry and nothing but the router is in it (no shell, no package manager).
#
# Build it with `make image` (podman or docker, whichever is installed). The Makefile stages
# the context in build/image/ first:
#   callback-router       the static binary (CGO_ENABLED=0, -trimpath), stamped with its version
#   ca-certificates.crt   the build machine's CA bundle (Debian's ca-certificates), so that
#                         https upstreams and NATS over TLS verify; rebuild to refresh it
#   passwd, group         the unprivileged user 65532 ("nonroot"), from deploy/container/
#   config.yaml           a default config (deploy/container/config.yaml); mount your own
#                         directory on /etc/callback-router
#   data/                 an empty directory: /data, owned by 65532, for delivery.dir
#
# Run it with the config directory and the store on volumes, and the token from a secret:
#   podman run -d --name callback-router -p 8080:8080 -p 9090:9090 \
#     -v ./router-config:/etc/callback-router:ro -v callback-router-data:/data \
#     -e CALLBACK_ROUTER_TENCENT_AUTH_TOKEN callback-router:latest
FROM scratch

ARG VERSION=devel
LABEL org.opencontainers.image.title="callback-router" \
      org.opencontainers.image.description="Routes Tencent Cloud Live and Chat callbacks to upstream services" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY passwd group /etc/
COPY config.yaml /etc/callback-router/config.yaml
# delivery.dir: journaled verdicts and async callbacks wait here for their upstream. Mount a
# volume that outlives the container on it.
COPY --chown=65532:65532 data/ /data/
COPY callback-router /callback-router

USER 65532:65532
WORKDIR /data
ENV CALLBACK_ROUTER_CONFIG=/etc/callback-router/config.yaml
VOLUME ["/data"]
# 8080: Tencent's callbacks. 9090: the admin listener (health, readiness, metrics, status).
EXPOSE 8080 9090
# The image has no shell and no curl: the binary asks its own admin listener's /readyz.
# (podman keeps HEALTHCHECK only in the docker image format: make image builds that.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/callback-router", "healthcheck"]
# SIGTERM drains: in-flight callbacks finish, pending deliveries stay in /data.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/callback-router"]
CMD ["serve"]

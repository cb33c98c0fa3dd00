// Package imagetest runs the container images for real with podman: the router image with a
// config volume, a token secret and a store volume, in front of the example upstream's image,
// and deploy/kubernetes/sidecar.yaml through `podman kube play`. Its tests are behind the
// `image` build tag and need the images built first; deploy/test/image.sh installs podman,
// builds them with make and runs the tests.
package imagetest

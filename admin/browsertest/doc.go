// Package browsertest drives a real headless browser (Debian's chromium, through
// playwright-core on Node) through the admin status page of a running router, and takes the
// screenshot the README shows. Its test skips, saying what is missing, where chromium, node
// or the npm packages (npm ci in this folder) are absent; .ci/run installs them.
package browsertest

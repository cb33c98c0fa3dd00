// Package reload replaces the running route table when the config file changes or the
// process gets SIGHUP. It watches the file's directory (not the file), so editors' atomic
// renames, in-place writes, delete-and-recreate and Kubernetes' ConfigMap symlink swaps are
// all seen; it debounces bursts of events, skips content it has already seen, and then loads
// the file afresh (viper is used only inside config.LoadFile, never shared), validates it,
// compiles it against the running table so unchanged upstreams keep their breakers and
// connection pools, and swaps the new table in whole. An invalid file is refused with every
// problem logged by key, and the running table stays.
//
// It leaves the request path alone: callbacks in flight finish on the table they loaded.
package reload

package config

import (
	"errors"
	"fmt"
	"os"
)

// ErrNotRegularFile refuses a path that is a named pipe, a device or a directory. Opening a
// named pipe waits for a writer, which would hang a start, a reload or a health check; and a
// config or secret handed over once through a pipe cannot be read again anyway.
var ErrNotRegularFile = errors.New("is not a regular file")

// requireRegularFile returns ErrNotRegularFile, naming path, when path is there and is not a
// regular file. It looks before anything opens the path; a path that is not there is left to
// the open to report.
func requireRegularFile(path string) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s %w", path, ErrNotRegularFile)
	}
	return nil
}

// ReadRegularFile reads the file at path whole, refusing one that is not a regular file
// before opening it.
func ReadRegularFile(path string) ([]byte, error) {
	if err := requireRegularFile(path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotRegularFile refuses a path that is a named pipe, a device or a directory. Opening a
// named pipe waits for a writer, which would hang a start, a reload or a health check; and a
// config or secret handed over once through a pipe cannot be read again anyway.
var ErrNotRegularFile = errors.New("is not a regular file")

// requireRegularFile returns ErrNotRegularFile, naming path, when path is there and is not a
// regular file; a path that is not there is left to the open to report.
func requireRegularFile(path string) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s %w", path, ErrNotRegularFile)
	}
	return nil
}

// openRegularFile opens path for reading, refusing with ErrNotRegularFile what is not a
// regular file. It looks before opening, so as not to open a pipe or a device at all, and
// again at what it opened: a named pipe put in the path's place between the two is opened
// without waiting (O_NONBLOCK, which changes nothing for a regular file) and refused.
func openRegularFile(path string) (*os.File, error) {
	if err := requireRegularFile(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s %w", path, ErrNotRegularFile)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadRegularFile reads the file at path whole, refusing one that is not a regular file
// without waiting on it (see openRegularFile).
func ReadRegularFile(path string) ([]byte, error) {
	f, err := openRegularFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

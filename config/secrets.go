package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// maxSecretFileBytes bounds a tokens or key file: a few tokens fit in a few hundred bytes,
// and a path pointing at a large (or endless) file must not be read whole.
const maxSecretFileBytes = 64 << 10

// SecretFiles returns every file the config reads secrets from (tokens_file, trtc_key_file),
// so that whoever reloads the config can watch them too.
func (c *Config) SecretFiles() []string {
	var out []string
	for _, a := range c.Tencent.Apps {
		for _, f := range []string{a.TokensFile, a.TRTCKeyFile} {
			if f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// readSecrets reads every app's tokens_file and trtc_key_file into FileTokens and
// FileTRTCKey. A relative path is relative to the working directory, as every other path
// of the config. Problems name the key and, for a file, the line; never a token.
func (c *Config) readSecrets(p *problems) {
	for i := range c.Tencent.Apps {
		a := &c.Tencent.Apps[i]
		key := fmt.Sprintf("tencent.apps[%d]", i)
		if a.TokensFile != "" {
			a.FileTokens = readTokensFile(p, key+".tokens_file", a.TokensFile)
		}
		if a.TRTCKeyFile != "" {
			a.FileTRTCKey = readKeyFile(p, key+".trtc_key_file", a.TRTCKeyFile)
		}
	}
}

// readTokensFile reads one token a line, ignoring blank lines and lines starting with #.
// A file that holds no token is a problem: the app would silently be served unsigned.
func readTokensFile(p *problems, key, path string) []string {
	data, err := ReadSecretFile(path)
	if err != nil {
		p.add(key, "%v", err)
		return nil
	}
	var tokens []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxSecretFileBytes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) > MaxTokenLen {
			p.add(key, "%s line %d is %d characters; Tencent's tokens are 1 to %d", path, n, len(line), MaxTokenLen)
			continue
		}
		if i := slices.Index(tokens, line); i >= 0 {
			p.add(key, "%s line %d repeats its token %d; list each token once", path, n, i+1)
			continue
		}
		tokens = append(tokens, line)
	}
	if len(tokens) == 0 {
		p.add(key, "%s holds no token (one a line; blank lines and # comments are ignored)", path)
	}
	return tokens
}

// readKeyFile reads a TRTC key: the file's content without surrounding white space.
func readKeyFile(p *problems, key, path string) string {
	data, err := ReadSecretFile(path)
	if err != nil {
		p.add(key, "%v", err)
		return ""
	}
	k := string(bytes.TrimSpace(data))
	if k == "" {
		p.add(key, "%s is empty", path)
	}
	return k
}

// byteOrderMark starts a UTF-8 file saved by some Windows editors; it is no part of a
// token or a key.
var byteOrderMark = []byte("\ufeff")

// ReadSecretFile reads a secret file whole, as the config reads tokens_file and
// trtc_key_file: a small regular file, never a named pipe or a device (see
// openRegularFile), without a leading byte order mark. Whatever else reads the secret files
// (reload hashes them to tell a rotation) goes through it so as not to hang where the config
// would refuse. Its errors name the path, never the content.
func ReadSecretFile(path string) ([]byte, error) {
	f, err := openRegularFile(path)
	if errors.Is(err, ErrNotRegularFile) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read it: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read it: %w", err)
	}
	if len(data) > maxSecretFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes; it should hold a few tokens", path, maxSecretFileBytes)
	}
	return bytes.TrimPrefix(data, byteOrderMark), nil
}

package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportPaths: the reader gets the import's path joined to the
// importing file's directory and cleaned; an import that leaves the root
// (the main file's directory) is an error the reader never sees, unless
// the host allows it (issue 8 item 8, SPEC §9).
func TestImportPaths(t *testing.T) {
	files := map[string]string{
		"util.nab":        "def double(x: f64) = 2.0 * x",
		"lib/helper.nab":  "import \"../util.nab\"\ndef quad(x: f64) = util.double(util.double(x))",
		"lib/escape.nab":  "import \"../../secret.nab\"\ndef g(x: f64) = x",
		"../secret.nab":   "def s(x: f64) = x",
		"/etc/secret.nab": "def s(x: f64) = x",
	}
	tests := []struct {
		name, src   string
		outside     bool
		wantRead    []string
		pos, errMsg string
	}{
		{name: "cleaned", src: "import \"lib/../util.nab\"\ndef f(x: f64) = util.double(x)", wantRead: []string{"util.nab"}},
		{name: "relative to the importing file", src: "import \"lib/helper.nab\"\ndef f(x: f64) = helper.quad(x)", wantRead: []string{"lib/helper.nab", "util.nab"}},
		{name: "dot dot above the root", src: "import \"../secret.nab\"\ndef f(x: f64) = x", pos: "1:1", errMsg: "the import leaves the program's root"},
		{name: "nested escape", src: "import \"lib/escape.nab\"\ndef f(x: f64) = x", wantRead: []string{"lib/escape.nab"}, pos: "lib/escape.nab:1:1", errMsg: "the import leaves the program's root"},
		{name: "absolute", src: "import \"/etc/secret.nab\"\ndef f(x: f64) = x", pos: "1:1", errMsg: "an absolute import path leaves the program's root"},
		{name: "allowed outside", src: "import \"../secret.nab\"\ndef f(x: f64) = secret.s(x)", outside: true, wantRead: []string{"../secret.nab"}},
		{name: "absolute allowed", src: "import \"/etc/secret.nab\"\ndef f(x: f64) = secret.s(x)", outside: true, wantRead: []string{"/etc/secret.nab"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var read []string
			reader := func(p string) ([]byte, error) {
				read = append(read, filepath.ToSlash(p))
				if s, ok := files[filepath.ToSlash(p)]; ok {
					return []byte(s), nil
				}
				return nil, os.ErrNotExist
			}
			_, err := Load("main.nab", []byte(tc.src), Options{ReadFile: reader, OutsideRoot: tc.outside})
			if strings.Join(read, " ") != strings.Join(tc.wantRead, " ") {
				t.Errorf("read %q, want %q", read, tc.wantRead)
			}
			if tc.errMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errMsg) {
				t.Fatalf("got %v, want %s", err, tc.errMsg)
			}
			pos := tc.pos
			if !strings.Contains(pos, ".nab") {
				pos = "main.nab:" + pos
			}
			if !strings.Contains(err.Error(), pos+":") {
				t.Errorf("error %q is not at %s", err, pos)
			}
		})
	}
}

// TestReadSourceFile: imports read from disk are regular files of bounded
// size: a directory, a device behind a symbolic link and an oversized
// file are positioned errors at the import (issue 15 item 5).
func TestReadSourceFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.nab", "def f(x: f64) = x")
	if err := os.Mkdir(filepath.Join(dir, "sub.nab"), 0o755); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(dir, "big.nab"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(MaxSourceBytes + 1); err != nil {
		t.Fatal(err)
	}
	big.Close()
	zeroLink := false
	if _, err := os.Stat("/dev/zero"); err == nil {
		zeroLink = os.Symlink("/dev/zero", filepath.Join(dir, "zero.nab")) == nil
	}
	tests := []struct{ imp, msg string }{
		{"ok.nab", ""},
		{"sub.nab", "not a regular file (a directory)"},
		{"big.nab", "more than the 33554432 a source file may have"},
		{"missing.nab", "no such file"},
	}
	if zeroLink {
		tests = append(tests, struct{ imp, msg string }{"zero.nab", "not a regular file (a character device)"})
	}
	tests = append(tests, fifoCase(t, dir)...)
	for _, tc := range tests {
		t.Run(tc.imp, func(t *testing.T) {
			main := filepath.Join(dir, "main.nab")
			write("main.nab", "import \""+tc.imp+"\"\ndef g(x: f64) = x")
			_, err := LoadFile(main, Options{})
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "main.nab:1:1: cannot import") {
				t.Fatalf("got %v, want main.nab:1:1: ...%s", err, tc.msg)
			}
		})
	}
}

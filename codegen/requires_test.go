package codegen

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRuntimeRequires checks that runtimeRequires names every module
// package runtime imports, at the version the repository's go.mod
// requires: a Go build of generated code from a test binary (whose build
// information lists no modules) must resolve them without the network.
func TestRuntimeRequires(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runtimeRequires {
		if !strings.Contains(string(mod), "\t"+r[0]+" "+r[1]+"\n") {
			t.Errorf("runtimeRequires has %s %s; go.mod requires another version or not at all", r[0], r[1])
		}
	}
	files, err := filepath.Glob(filepath.Join("..", "runtime", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := filepath.Glob(filepath.Join("..", "runtime", "[a-z]*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, sub...)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if !strings.Contains(first, ".") || strings.HasPrefix(path, "github.com/nabla-lang/nabla") {
				continue // the standard library or the module itself
			}
			found := false
			for _, r := range runtimeRequires {
				found = found || path == r[0] || strings.HasPrefix(path, r[0]+"/")
			}
			if !found {
				t.Errorf("%s imports %s, whose module runtimeRequires does not list", filepath.Base(name), path)
			}
		}
	}
}

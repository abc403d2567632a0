package lang

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/stdlib"
)

// Options configure Load.
type Options struct {
	// ReadFile reads an imported file (not std/...) by the path formed from
	// the importing file's directory and the import path. Nil means only the
	// standard library can be imported.
	ReadFile func(path string) ([]byte, error)
	// Context, when not nil, stops loading when it is done: Load then
	// returns an error wrapping Context.Err(). It is looked at after
	// parsing each file and before checking each declaration.
	Context context.Context
}

// cancelled returns an error wrapping the context's error once it is
// done.
func (o Options) cancelled() error {
	if o.Context == nil {
		return nil
	}
	if err := o.Context.Err(); err != nil {
		return fmt.Errorf("loading the program: %w", err)
	}
	return nil
}

// LoadFile reads, parses and checks the program in the file at path,
// reading its relative imports from disk unless opts.ReadFile says
// otherwise.
func LoadFile(filename string, opts Options) (*ir.Program, error) {
	src, err := os.ReadFile(filename)
	if err != nil {
		return nil, err
	}
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	return Load(filename, src, opts)
}

// Load parses and checks a program whose main file is src (named
// filename in positions), with its imports, and elaborates it into core
// IR. It reports all errors it finds as an ir.ErrorList.
func Load(filename string, src []byte, opts Options) (*ir.Program, error) {
	l := &loader{opts: opts, modules: map[string]*module{}}
	main, err := ParseFile(filename, src)
	if err != nil {
		return nil, err
	}
	if err := opts.cancelled(); err != nil {
		return nil, err
	}
	root := &module{key: filename, file: main}
	l.modules[filename] = root
	l.resolveImports(root, filename, nil)
	if err := opts.cancelled(); err != nil {
		return nil, err
	}
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return check(root, l.order, opts)
}

// module is one parsed file with its qualifier ("" for the main file;
// "linalg" for std/linalg) and the modules it imports.
type module struct {
	key       string // the std path or the file path: unique per module
	qualifier string
	file      *File
	imports   map[string]*module // by qualifier
	state     int                // 0 new, 1 resolving, 2 done
}

type loader struct {
	opts    Options
	modules map[string]*module
	order   []*module // imported modules, dependencies first
	errs    ir.ErrorList
}

// resolveImports loads m's imports depth first, reporting cycles at the
// import that closes them.
func (l *loader) resolveImports(m *module, filename string, stack []string) {
	m.state = 1
	m.imports = map[string]*module{}
	for _, imp := range m.file.Imports {
		key, q, src, err := l.find(filename, imp.Path)
		if err != nil {
			l.errs = append(l.errs, ir.Errorf(imp.Pos, "cannot import %q: %v", imp.Path, err))
			continue
		}
		if prev, dup := m.imports[q]; dup {
			if prev.key == key {
				l.errs = append(l.errs, ir.Errorf(imp.Pos, "%q is imported twice", imp.Path))
			} else {
				l.errs = append(l.errs, ir.Errorf(imp.Pos, "import %q clashes with %q: both would be called %s", imp.Path, prev.key, q))
			}
			continue
		}
		dep := l.modules[key]
		if dep == nil {
			f, err := ParseFile(key, src)
			if err != nil {
				l.errs = append(l.errs, asErrors(err)...)
				continue
			}
			dep = &module{key: key, qualifier: q, file: f}
			l.modules[key] = dep
		}
		if dep.state == 1 {
			l.errs = append(l.errs, ir.Errorf(imp.Pos, "import cycle: %s imports %s", strings.Join(append(stack, m.key), " imports "), key))
			continue
		}
		m.imports[q] = dep
		if dep.state == 0 {
			l.resolveImports(dep, key, append(stack, m.key))
		}
	}
	m.state = 2
	if m.qualifier != "" {
		l.order = append(l.order, m)
	}
}

// find locates an import: std/... in the embedded library, anything else
// relative to the importing file. It returns the module's key, its
// qualifier and its source.
func (l *loader) find(importer, p string) (key, qualifier string, src []byte, err error) {
	if p == "" {
		return "", "", nil, errString("empty import path")
	}
	base := path.Base(p)
	qualifier = strings.TrimSuffix(base, ".nab")
	if !isIdent(qualifier) {
		return "", "", nil, errString("the module name " + qualifier + " is not an identifier")
	}
	if strings.HasPrefix(p, "std/") {
		key = strings.TrimSuffix(p, ".nab")
		src, err = fs.ReadFile(stdlib.FS, key+".nab")
		if err != nil {
			return "", "", nil, errString("no such standard library module")
		}
		return key, qualifier, src, nil
	}
	if l.opts.ReadFile == nil {
		return "", "", nil, errString("this program was compiled without file access (only std/... can be imported)")
	}
	if !strings.HasSuffix(p, ".nab") {
		p += ".nab"
	}
	key = p
	if !filepath.IsAbs(p) {
		key = filepath.Join(filepath.Dir(importer), filepath.FromSlash(p))
	}
	src, err = l.opts.ReadFile(key)
	if err != nil {
		return "", "", nil, err
	}
	return key, qualifier, src, nil
}

type errString string

func (e errString) Error() string { return string(e) }

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return !keywords[s]
}

// keywords are reserved (SPEC §1).
var keywords = map[string]bool{
	"def": true, "export": true, "import": true, "let": true, "in": true, "if": true,
	"then": true, "else": true, "fn": true, "loop": true, "for": true, "while": true,
	"do": true, "rule": true, "strategy": true, "where": true, "true": true, "false": true,
}

// asErrors flattens an error into positioned errors.
func asErrors(err error) ir.ErrorList {
	switch e := err.(type) {
	case ir.ErrorList:
		return e
	case *ir.Error:
		return ir.ErrorList{e}
	}
	return ir.ErrorList{&ir.Error{Msg: err.Error()}}
}

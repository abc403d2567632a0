package lang

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// ReadFile reads an imported file (not std/...) by its path: the import
	// path joined to the importing file's directory and cleaned
	// (filepath.Join), so "lib/../util.nab" imported from "model.nab" is
	// read as "util.nab". Nil means only the standard library can be
	// imported.
	ReadFile func(path string) ([]byte, error)
	// Context, when not nil, stops loading when it is done: Load then
	// returns an error wrapping Context.Err(). It is looked at after
	// parsing each file and before checking each declaration.
	Context context.Context
	// OutsideRoot lets imports leave the root, the main file's directory:
	// an absolute import path, or one whose ".." climb above the root.
	// Without it such an import is an error and ReadFile never sees it
	// (SPEC §9).
	OutsideRoot bool
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

// MaxSourceBytes is the largest source file ReadSourceFile reads.
const MaxSourceBytes = 32 << 20

// ReadSourceFile reads a program file from disk as imports are read by
// default: only a regular file (after symbolic links), so that a FIFO
// cannot block and a device such as /dev/zero cannot be read without
// end, and at most MaxSourceBytes of it.
func ReadSourceFile(path string) ([]byte, error) {
	return readRegular(func() (fs.FileInfo, error) { return os.Stat(path) },
		func() (*os.File, error) { return os.Open(path) })
}

// RootReader returns a reader for Options.ReadFile that reads as
// ReadSourceFile does, but only files under the directory root: it
// opens them through os.Root, so that neither "..", an absolute path nor
// a symbolic link reaches outside root (SPEC §9). The command line and
// nabla.CompileFile read imports with it, root being the main file's
// directory.
func RootReader(root string) func(path string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		rel, err := filepath.Rel(root, path)
		if err != nil || !filepath.IsLocal(rel) {
			return nil, errString("the file is outside the program's root (" + root + ")")
		}
		r, err := os.OpenRoot(root)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		src, err := readRegular(func() (fs.FileInfo, error) { return r.Stat(rel) },
			func() (*os.File, error) { return r.Open(rel) })
		var pe *fs.PathError
		if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
			// os.Root's words for a symbolic link that leads out.
			return nil, errString("a symbolic link leads outside the program's root (" + root + ")")
		}
		return src, err
	}
}

// readRegular reads the file that stat describes and open opens, if it
// is a regular file of at most MaxSourceBytes.
func readRegular(stat func() (fs.FileInfo, error), open func() (*os.File, error)) ([]byte, error) {
	fi, err := stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errString("not a regular file (" + fileKind(fi.Mode()) + ")")
	}
	if fi.Size() > MaxSourceBytes {
		return nil, errString(fmt.Sprintf("the file has %d bytes, more than the %d a source file may have", fi.Size(), MaxSourceBytes))
	}
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been replaced between stat and open.
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, errString("not a regular file")
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxSourceBytes+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxSourceBytes {
		return nil, errString(fmt.Sprintf("the file has more than the %d bytes a source file may have", MaxSourceBytes))
	}
	return src, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// LoadFile reads, parses and checks the program in the file at path,
// reading it and its relative imports with ReadSourceFile unless
// opts.ReadFile says otherwise.
func LoadFile(filename string, opts Options) (*ir.Program, error) {
	if opts.ReadFile == nil {
		opts.ReadFile = ReadSourceFile
	}
	src, err := opts.ReadFile(filename)
	if err != nil {
		return nil, err
	}
	return Load(filename, src, opts)
}

// Load parses and checks a program whose main file is src (named
// filename in positions), with its imports, and elaborates it into core
// IR. It reports all errors it finds as an ir.ErrorList.
func Load(filename string, src []byte, opts Options) (*ir.Program, error) {
	l := &loader{opts: opts, modules: map[string]*module{}, root: filepath.Dir(filepath.Clean(filename))}
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
		return nil, limitErrors(l.errs)
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
	root    string // the main file's directory
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
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the message names the path already
			}
			l.errs = append(l.errs, ir.Errorf(imp.Pos, "cannot import %q: %v", parserClip(imp.Path), err))
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
	key = filepath.Clean(filepath.FromSlash(p))
	if !filepath.IsAbs(key) {
		key = filepath.Join(filepath.Dir(importer), key)
	}
	if !l.opts.OutsideRoot {
		if filepath.IsAbs(p) || strings.HasPrefix(p, "/") {
			return "", "", nil, errString("an absolute import path leaves the program's root (" + l.root + "); import files by paths relative to the importing file")
		}
		if rel, err := filepath.Rel(l.root, key); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", "", nil, errString("the import leaves the program's root (" + l.root + ", the main file's directory)")
		}
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

package gradbench

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/runtime"
)

// The evals' modules, one NAME.nab per eval.
//
//go:embed *.nab
var modules embed.FS

// Source returns the Nabla source of an eval's module.
func Source(module string) ([]byte, error) {
	if evals[module] == nil {
		return nil, fmt.Errorf("no module %q", module)
	}
	return modules.ReadFile(module + ".nab")
}

// Modules lists the evals this tool implements, sorted.
func Modules() []string {
	var names []string
	for n := range evals {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func moduleList() string { return strings.Join(Modules(), ", ") }

// compileModule compiles an eval's embedded module.
func compileModule(module string) (*nabla.Program, error) {
	src, err := Source(module)
	if err != nil {
		return nil, err
	}
	return nabla.Compile(module+".nab", src, nabla.WithReadFile(modules.ReadFile))
}

// eval describes how one module's functions are called.
type eval struct {
	name   string
	decode func(raw json.RawMessage) (*input, error)
	funcs  map[string]*function
}

func (e *eval) functionList() string {
	var names []string
	for n := range e.funcs {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// function is one function of a module: the defs that may implement it
// (pick chooses among several by the input), and how its result becomes
// the eval's JSON.
type function struct {
	defs   []string
	pick   func(in *input) string
	encode func(b []byte, v runtime.Value, in *input) ([]byte, error)
}

// input is a converted input: the arguments of the def, and what the
// encoder needs to know about the input besides the result.
type input struct {
	args []runtime.Value
	meta any
}

func fn(def string, enc func([]byte, runtime.Value, *input) ([]byte, error)) *function {
	return &function{defs: []string{def}, encode: enc}
}

// evals maps each module name to its description; the per-eval files
// (eval_*.go) fill it.
var evals = map[string]*eval{}

func register(e *eval) { evals[e.name] = e }

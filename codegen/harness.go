package codegen

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// The run harness: with Options.Main the generated file is a command
//
//	prog -f NAME < args
//
// reading one JSON value per parameter from standard input (nabla run has
// already checked and normalized them against the parameter types),
// calling the def's internal function and printing its result as JSON,
// exactly as the interpreter's nabla run prints it. A run-time error
// prints on stderr with exit status 1.
//
// -max-memory BYTES limits the run's memory as far as generated code
// allows: every size the program computes is checked against the limit
// before the array is allocated (runtime.SetArrayLimit makes
// runtime.CheckSize and MulSize do so, at 8 bytes an element, with the
// interpreter's messages), the Go runtime's soft limit is set a quarter above
// it so that garbage is collected early, and a watcher stops the run
// when the live heap after a collection passes the limit.
//
// -max-steps N stops the run after N steps in a program generated with
// Options.Steps (steps.go). A timeout is the parent's to enforce (nabla
// run kills the process at the deadline).

func (g *gen) emitHarness(w *bytes.Buffer) {
	w.WriteString("func main() {\n\tos.Exit(nbMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))\n}\n\n")
	w.WriteString(`// nbRunArena is the arena of every run: requests are answered one after
// the other, each run resets it, and a request's result is encoded
// before the next request's first run. A later request so reuses the
// memory an earlier one took from the system, whose first use is what
// makes a first run slow. Its large chunks are mapped from the system
// (on huge pages where it has them) unless a memory limit is set, which
// only counts the Go heap.
var nbRunArena = runtime.NewMappedArena()

// nbPrepare decodes the arguments of def name and returns run, which
// calls the def on them (again at each call, reusing one arena), and
// result, which encodes the last run's result.
func nbPrepare(name string, in []any) (run func() error, result func() any, err error) {
	ar := nbRunArena
	_ = ar
	switch name {
`)
	for _, di := range g.order {
		if di.skip != nil {
			fmt.Fprintf(w, "case %q:\nreturn nil, nil, fmt.Errorf(\"%%s\", %q)\n", di.def.Name, fmt.Sprintf("%s: def %s cannot run with --backend go: %v", posString(di.def.P), di.def.Name, di.skip))
			continue
		}
		if hasFuncParam(di) {
			fmt.Fprintf(w, "case %q:\nreturn nil, nil, fmt.Errorf(%q)\n", di.def.Name, "def "+di.def.Name+" takes a function, which has no JSON form")
			continue
		}
		fmt.Fprintf(w, "case %q:\n", di.def.Name)
		fmt.Fprintf(w, "if len(in) != %d {\nreturn nil, nil, fmt.Errorf(\"def %s takes %d arguments, got %%d\", len(in))\n}\n", len(di.params), di.def.Name, len(di.params))
		var args []string
		if !di.value {
			args = append(args, "ar")
		}
		for i, t := range di.params {
			if len(mustLeaves(t)) == 0 {
				continue // a unit parameter (an empty tape) passes nothing
			}
			fmt.Fprintf(w, "a%d := nbDecode(%q, in[%d])\n", i, typeDesc(t), i)
			k := 0
			for _, l := range mustLeaves(t) {
				args = append(args, leafArgs(fmt.Sprintf("a%d[%d]", i, k), l)...)
				k++
			}
		}
		resTypes := partTypes(di.result)
		var res []string
		for i, rt := range resTypes {
			res = append(res, fmt.Sprintf("r%d", i))
			fmt.Fprintf(w, "var r%d %s\n", i, rt)
		}
		w.WriteString("run = func() error {\n")
		if !di.value {
			w.WriteString("ar.Reset()\n")
		}
		lhs := strings.Join(res, ", ")
		if di.fails {
			w.WriteString("var err error\n")
			if lhs == "" {
				lhs = "err"
			} else {
				lhs += ", err"
			}
		}
		call := fmt.Sprintf("%s(%s)", di.goName, strings.Join(args, ", "))
		if lhs == "" {
			fmt.Fprintf(w, "%s\n", call)
		} else {
			fmt.Fprintf(w, "%s = %s\n", lhs, call)
		}
		if di.fails {
			fmt.Fprintf(w, "if err != nil {\nreturn runtime.WithFrame(err, %q, %q, \"\")\n}\n", di.def.Name, posString(di.def.P))
		}
		w.WriteString("return nil\n}\n")
		var leaves []string
		k := 0
		for _, l := range mustLeaves(di.result) {
			leaves = append(leaves, leafLit(l, res[k:k+l.nparts()]))
			k += l.nparts()
		}
		fmt.Fprintf(w, "return run, func() any { return nbEncode(%q, []nbLeaf{%s}) }, nil\n", typeDesc(di.result), strings.Join(leaves, ", "))
	}
	w.WriteString("}\nreturn nil, nil, fmt.Errorf(\"no def named %s\", name)\n}\n\n")
	w.WriteString("// nbDefPos is the declaration of def name, for errors that belong to no\n// expression.\nfunc nbDefPos(name string) string {\n\tswitch name {\n")
	for _, di := range g.order {
		fmt.Fprintf(w, "case %q:\nreturn %q\n", di.def.Name, posString(di.def.P))
	}
	w.WriteString("}\nreturn \"\"\n}\n\n")
	g.emitStepLimit(w)
	g.emitProgressStart(w)
	w.WriteString(harnessSrc)
}

func hasFuncParam(di *defInfo) bool {
	for _, t := range di.params {
		if _, ok := t.(*ir.Func); ok {
			return true
		}
	}
	return false
}

// leafArgs are the Go arguments for one decoded leaf.
func leafArgs(x string, l leaf) []string {
	field := [...]string{"f", "i", "b"}[l.kind]
	if l.rank == 0 {
		return []string{x + "." + field + "[0]"}
	}
	out := []string{x + "." + field}
	for d := 0; d < l.rank; d++ {
		out = append(out, fmt.Sprintf("%s.dims[%d]", x, d))
	}
	return out
}

// leafLit builds an nbLeaf literal from a leaf's result parts.
func leafLit(l leaf, parts []string) string {
	field := [...]string{"f", "i", "b"}[l.kind]
	if l.rank == 0 {
		return fmt.Sprintf("{%s: []%s{%s}}", field, scalarGo(l.kind), parts[0])
	}
	return fmt.Sprintf("{%s: %s, dims: []int{%s}}", field, parts[0], strings.Join(parts[1:], ", "))
}

// harnessSrc is the fixed part of the harness: decoding JSON by a type
// description (f, i, b, [T, (T,...)) into flat leaves and encoding results
// back, with the interpreter's number format.
const harnessSrc = `// nbLeaf is one leaf of a value's layout: a scalar (one element, no
// dims) or a flat row-major array with its dims.
type nbLeaf struct {
	f    []float64
	i    []int64
	b    []bool
	dims []int
}

// nbTy is a parsed type description.
type nbTy struct {
	kind  byte // 'f', 'i', 'b', '[' or '('
	elem  *nbTy
	elems []*nbTy
}

func nbParse(s string) (*nbTy, string) {
	switch s[0] {
	case '[':
		e, rest := nbParse(s[1:])
		return &nbTy{kind: '[', elem: e}, rest
	case '(':
		t := &nbTy{kind: '('}
		s = s[1:]
		for s[0] != ')' {
			var e *nbTy
			e, s = nbParse(s)
			t.elems = append(t.elems, e)
			if s[0] == ',' {
				s = s[1:]
			}
		}
		return t, s[1:]
	}
	return &nbTy{kind: s[0]}, s[1:]
}

// nbShapeOf lists the leaves of a type as (kind, rank).
func nbShapeOf(t *nbTy, rank int, out []nbLeaf) []nbLeaf {
	switch t.kind {
	case '[':
		return nbShapeOf(t.elem, rank+1, out)
	case '(':
		for _, e := range t.elems {
			out = nbShapeOf(e, rank, out)
		}
		return out
	}
	l := nbLeaf{dims: make([]int, rank)}
	switch t.kind {
	case 'f':
		l.f = []float64{}
	case 'i':
		l.i = []int64{}
	default:
		l.b = []bool{}
	}
	return append(out, l)
}

func nbDecode(desc string, x any) []nbLeaf {
	t, _ := nbParse(desc)
	return nbDec(t, x)
}

func nbDec(t *nbTy, x any) []nbLeaf {
	switch t.kind {
	case 'f':
		var v float64
		switch x := x.(type) {
		case json.Number:
			v, _ = strconv.ParseFloat(string(x), 64)
		case string:
			switch x {
			case "NaN":
				v = math.NaN()
			case "+Inf", "Inf":
				v = math.Inf(1)
			case "-Inf":
				v = math.Inf(-1)
			}
		}
		return []nbLeaf{{f: []float64{v}}}
	case 'i':
		n, _ := x.(json.Number)
		v, _ := strconv.ParseInt(string(n), 10, 64)
		return []nbLeaf{{i: []int64{v}}}
	case 'b':
		v, _ := x.(bool)
		return []nbLeaf{{b: []bool{v}}}
	case '(':
		xs, _ := x.([]any)
		var out []nbLeaf
		for k, e := range t.elems {
			out = append(out, nbDec(e, xs[k])...)
		}
		return out
	}
	xs, _ := x.([]any)
	out := nbShapeOf(t, 0, nil)
	for k := range out {
		out[k].dims[0] = len(xs)
	}
	for j, e := range xs {
		ls := nbDec(t.elem, e)
		for k := range out {
			if j == 0 {
				copy(out[k].dims[1:], ls[k].dims)
			}
			out[k].f = append(out[k].f, ls[k].f...)
			out[k].i = append(out[k].i, ls[k].i...)
			out[k].b = append(out[k].b, ls[k].b...)
		}
	}
	return out
}

// nbEncode turns result leaves back into nested values: float64, int64,
// bool and []any.
func nbEncode(desc string, ls []nbLeaf) any {
	t, _ := nbParse(desc)
	return nbEnc(t, ls)
}

func nbCount(t *nbTy) int { return len(nbShapeOf(t, 0, nil)) }

func nbEnc(t *nbTy, ls []nbLeaf) any {
	switch t.kind {
	case 'f':
		return ls[0].f[0]
	case 'i':
		return ls[0].i[0]
	case 'b':
		return ls[0].b[0]
	case '(':
		out := make([]any, len(t.elems))
		k := 0
		for j, e := range t.elems {
			n := nbCount(e)
			out[j] = nbEnc(e, ls[k:k+n])
			k += n
		}
		return out
	}
	n := 0
	if len(ls) > 0 {
		n = ls[0].dims[0]
	}
	out := make([]any, n)
	for r := range out {
		sub := make([]nbLeaf, len(ls))
		for k, l := range ls {
			rs := 1
			for _, d := range l.dims[1:] {
				rs *= d
			}
			s := nbLeaf{dims: l.dims[1:]}
			switch {
			case l.f != nil:
				s.f = l.f[r*rs : (r+1)*rs]
			case l.i != nil:
				s.i = l.i[r*rs : (r+1)*rs]
			default:
				s.b = l.b[r*rs : (r+1)*rs]
			}
			sub[k] = s
		}
		out[r] = nbEnc(t.elem, sub)
	}
	return out
}

// nbAppend writes a value as JSON: floats in the shortest form that reads
// back, NaN and infinities as strings, ", " between elements.
func nbAppend(b []byte, x any) []byte {
	switch x := x.(type) {
	case float64:
		return nbAppendFloat(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = nbAppend(b, e)
		}
		return append(b, ']')
	}
	return b
}

func nbAppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, ` + "`" + `"NaN"` + "`" + `...)
	case math.IsInf(f, 1):
		return append(b, ` + "`" + `"+Inf"` + "`" + `...)
	case math.IsInf(f, -1):
		return append(b, ` + "`" + `"-Inf"` + "`" + `...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// nbSafe calls f, reporting a Go panic (a bug in the generated code) as
// an internal error, never as a stack trace.
func nbSafe(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return f()
}

// nbMaxBytes is the run's memory limit, 0 for none but the machine's.
var nbMaxBytes int64

// nbLive is the live heap after the last collection.
func nbLive() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// nbWatch stops the run, as the interpreter would with a positioned
// error, when the live heap after a collection has grown by more than
// the memory limit since the call began (base: its arguments and the
// harness, which the interpreter does not count either).
func nbWatch(name string, base int64, stderr io.Writer) {
	debug.SetMemoryLimit(base + nbMaxBytes + nbMaxBytes/4 + 64<<20)
	for {
		time.Sleep(10 * time.Millisecond)
		if live := nbLive() - base; live > nbMaxBytes {
			pos := nbDefPos(name)
			fmt.Fprintln(stderr, runtime.WithFrame(runtime.NewError(pos, fmt.Sprintf("memory limit exceeded: %d bytes alive pass the limit of %d bytes", live, nbMaxBytes)), name, pos, ""))
			os.Exit(1)
		}
	}
}

// nbCall runs def name once on decoded arguments.
func nbCall(name string, in []any) (out any, err error) {
	var run func() error
	var result func() any
	err = nbSafe(func() (err error) {
		run, result, err = nbPrepare(name, in)
		return err
	})
	if err == nil {
		err = nbSafe(run)
	}
	if err != nil {
		return nil, err
	}
	return result(), nil
}

// nbMain is the command: -f NAME [-max-memory BYTES] [-max-steps N], JSON arguments on
// stdin; or -serve.
func nbMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "main"
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-f" && i+1 < len(args):
			name = args[i+1]
			i++
		case args[i] == "-max-memory" && i+1 < len(args):
			n, err := strconv.ParseInt(args[i+1], 10, 64)
			if err != nil || n < 0 {
				fmt.Fprintf(stderr, "bad -max-memory %q\n", args[i+1])
				return 2
			}
			nbMaxBytes = n
			nbRunArena.Unmap()
			runtime.SetArrayLimit(n)
			i++
		case args[i] == "-max-steps" && i+1 < len(args):
			n, err := strconv.ParseInt(args[i+1], 10, 64)
			if err != nil || n < 0 {
				fmt.Fprintf(stderr, "bad -max-steps %q\n", args[i+1])
				return 2
			}
			if n > 0 && !nbLimitSteps(n) {
				fmt.Fprintln(stderr, "-max-steps: this program was generated without step counting (codegen.Options.Steps)")
				return 2
			}
			i++
		}
		if args[i] == "-progress" {
			defer nbStartProgress()()
		}
		if args[i] == "-serve" {
			return nbServe(stdin, stdout, stderr)
		}
	}

	dec := json.NewDecoder(stdin)
	dec.UseNumber()
	var in []any
	for {
		var x any
		if err := dec.Decode(&x); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintf(stderr, "bad arguments: %v\n", err)
			return 2
		}
		in = append(in, x)
	}
	if nbMaxBytes > 0 {
		debug.FreeOSMemory() // a collection, for the base the watcher measures from
		go nbWatch(name, nbLive(), stderr)
	}
	out, err := nbCall(name, in)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	stdout.Write(append(nbAppend(nil, out), '\n'))
	return 0
}

// nbServe answers requests, one JSON object a line,
// {"def": NAME, "args": [...], "runs": N, "seconds": S}: it decodes the
// arguments once, calls the def at least N times and for at least S
// seconds in all, and writes one line, {"times": [ns, ...], "output": R}
// with each call's time and the last call's result, or {"error": MSG}.
// It returns at the end of input. (nabla gradbench --backend go times
// evaluations this way: computation only, no process start or JSON.)
func nbServe(stdin io.Reader, stdout, stderr io.Writer) int {
	dec := json.NewDecoder(stdin)
	dec.UseNumber()
	w := bufio.NewWriter(stdout)
	for {
		var req struct {
			Def     string
			Args    []any
			Runs    int
			Seconds float64
		}
		if err := dec.Decode(&req); err == io.EOF {
			return 0
		} else if err != nil {
			fmt.Fprintf(stderr, "bad request: %v\n", err)
			return 2
		}
		var run func() error
		var result func() any
		err := nbSafe(func() (err error) {
			run, result, err = nbPrepare(req.Def, req.Args)
			return err
		})
		var times []int64
		var total time.Duration
		for err == nil && (len(times) < max(req.Runs, 1) || total.Seconds() < req.Seconds) {
			start := time.Now()
			err = nbSafe(run)
			dt := time.Since(start)
			times = append(times, dt.Nanoseconds())
			total += dt
		}
		if err != nil {
			msg, _ := json.Marshal(err.Error())
			fmt.Fprintf(w, "{\"error\":%s}\n", msg)
		} else {
			b := []byte("{\"times\":[")
			for i, t := range times {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, t, 10)
			}
			b = append(b, "],\"output\":"...)
			b = append(nbAppend(b, result()), "}\n"...)
			w.Write(b)
		}
		if err := w.Flush(); err != nil {
			return 2
		}
	}
}
`

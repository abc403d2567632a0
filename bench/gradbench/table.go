package gradbench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// TableOptions configure Table.
type TableOptions struct {
	// Data is the kit's folder of recorded cases (data/NAME/*.jsonl).
	Data string
	// Evals limits the table to these evals; empty means all twelve but
	// hello, whose timings mean nothing.
	Evals []string
	// Quick evaluates each question once, ignoring the recorded
	// min_runs and min_seconds.
	Quick bool
	// Backends are the backends to time each question on, BackendInterp
	// and BackendGo; empty means both. The Go backend's figures are the
	// wall-clock times its program measures (nabla gradbench --backend
	// go's), which has no CPU times.
	Backends []string
	// Log receives a line per question as it is timed; nil discards.
	Log io.Writer
}

// order is the evals' order in the table, that of the kit's evals.md.
var order = []string{"hello", "lse", "llsq", "det", "ode", "gmm", "lstm", "kmeans", "ba", "ht", "particle", "saddle"}

// pairs names each eval's primal and derivative functions.
var pairs = map[string][2]string{
	"hello": {"square", "double"}, "lse": {"primal", "gradient"}, "llsq": {"primal", "gradient"},
	"det": {"primal", "gradient"}, "ode": {"primal", "gradient"}, "gmm": {"objective", "jacobian"},
	"lstm": {"objective", "jacobian"}, "kmeans": {"cost", "dir"}, "ba": {"objective", "jacobian"},
	"ht": {"objective", "jacobian"},
}

// baseline is a reference tool's minimum evaluate times, primal and
// derivative, in seconds (0: no figure), from the kit's README.
type baseline struct{ manualP, manualD, torchP, torchD float64 }

// baselines maps "eval/description" to the README's figures. The ht
// figures are for the big model, which the kit does not record; the table
// compares them with the small model's times and says so.
var baselines = map[string]baseline{
	"lse/n=2500":                    {14.3e-6, 9.84e-6, 9.32e-6, 51.5e-6},
	"llsq/n=16,m=128":               {1.76e-6, 3.5e-6, 0, 0},
	"llsq/n=16392,m=128":            {1.81e-3, 8.07e-3, 0, 0},
	"det/5":                         {781e-9, 3.95e-6, 0, 0},
	"det/11":                        {525e-3, 6.43, 0, 0},
	"ode/n=1000,s=1":                {1.23e-6, 1.25e-6, 0, 0},
	"gmm/2_5_1000":                  {81e-6, 125e-6, 283e-6, 534e-6},
	"lstm/l=2,c=1024":               {1.42e-3, 8.68e-3, 645e-3, 816e-3},
	"kmeans/k=10,n=1000,d=8":        {21.6e-6, 25.6e-6, 38e-6, 248e-6},
	"ba/ba1_n49_m7776_p31843":       {0.77e-3, 4.64e-3, 14.6, 54.6},
	"ba/ba14_n356_m226730_p1255268": {49.5e-3, 2.43, 0, 0},
	"ht/hand1_t26_c100":             {2.55e-3, 21.4e-3, 11.3e-3, 7.25},
}

// bestRatio is the best published derivative ÷ primal of an eval (issue
// 14's goals for generated Go).
var bestRatio = map[string]float64{"gmm": 2.4, "ba": 6.4, "lstm": 2.7}

// reasons say why an eval's derivative misses its goal, from CPU profiles
// of the modules on the interpreter (go test -bench BenchmarkSmall
// -cpuprofile); the table prints them beside each shortfall.
var reasons = map[string]string{
	"kmeans": "the gradient and Hessian-vector product of a running minimum over the k centroids, about twenty " +
		"operations on [k][n] arrays and four matrix products, each allocating its result: runtime.mallocgc is half " +
		"the profile (GC assists a fifth); pytorch runs the same operations as preallocated kernels",
	"lse": "ten passes over the vector, each allocating its result (the interpreter does not fuse them)",
}

// row is one line of the table: one input of one case file.
type row struct {
	eval, file, desc    string
	primal, deriv       float64 // minimum evaluate seconds, 0 if not asked
	primalCPU, derivCPU float64 // minimum CPU seconds of the process during an evaluation
	fn                  string  // the derivative's function, for particle and saddle
	invalid             []string
	// goPrimal and goDeriv are the Go backend's minimum wall-clock
	// seconds (0 if not timed); goInvalid its rejected answers.
	goPrimal, goDeriv float64
	goInvalid         []string
}

// Table runs the recorded cases in process, one question after another,
// each as often as its min_runs and min_seconds ask (once with Quick),
// and writes a Markdown table of the minimum evaluate times: primal,
// derivative, their ratio, and the derivative against the kit's manual
// (hand-written C++) and pytorch figures; then the figures that miss the
// interpreter's goal, every derivative faster than pytorch's. With the Go
// backend, its wall-clock minima, ratio and comparison with manual follow,
// and the figures that miss its goals (within 1.5× of manual, derivative ÷
// primal at most the best published). The times
// are the process's CPU time during a run where it can be read (garbage
// collection included), which a machine shared with other work does not
// inflate as it does wall-clock time; the wall-clock minima follow in the
// last columns. An answer that the eval's rule rejects is marked in the
// table.
//
// Run it on one core (GOMAXPROCS=1), as the reference figures were
// measured.
func Table(w io.Writer, o TableOptions) error {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	names := o.Evals
	if len(names) == 0 {
		names = order[1:]
	}
	backends := o.Backends
	if len(backends) == 0 {
		backends = []string{BackendInterp, BackendGo}
	}
	for _, b := range backends {
		if b != BackendInterp && b != BackendGo {
			return fmt.Errorf("unknown backend %q: want %s or %s", b, BackendInterp, BackendGo)
		}
	}
	var rows []*row
	for _, name := range names {
		files, err := filepath.Glob(filepath.Join(o.Data, name, "*.jsonl"))
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("no recorded cases for %s in %s", name, o.Data)
		}
		slices.Sort(files)
		for _, file := range files {
			rs, err := timeCase(file, o.Quick, backends, logw)
			if err != nil {
				return fmt.Errorf("%s: %v", file, err)
			}
			rows = append(rows, rs...)
		}
	}
	writeTable(w, rows, slices.Contains(backends, BackendInterp), slices.Contains(backends, BackendGo))
	return nil
}

// timeCase times every question of one recorded case file on each
// backend.
func timeCase(path string, quick bool, backends []string, logw io.Writer) ([]*row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type record struct {
		Message   message          `json:"message"`
		InputOf   *json.RawMessage `json:"input_of"`
		Reference *struct {
			Output any `json:"output"`
		} `json:"reference"`
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<28)
	inputs := map[string]json.RawMessage{}
	var ev *eval
	var tools []*Tool // one per backend
	defer func() {
		for _, t := range tools {
			t.closeGo()
		}
	}()
	byDesc := map[string]*row{}
	var rows []*row
	file := strings.TrimSuffix(filepath.Base(path), ".jsonl")
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, err
		}
		m := r.Message
		switch m.Kind {
		case "define":
			if ev = evals[m.Module]; ev == nil {
				return nil, fmt.Errorf("no module %q", m.Module)
			}
			for _, t := range tools {
				t.closeGo()
			}
			tools = nil
			for _, b := range backends {
				tool := &Tool{opts: Options{Backend: b, Log: logw}}
				tools = append(tools, tool)
				var out strings.Builder
				w := bufio.NewWriter(&out)
				if err := tool.define(w, m); err != nil {
					return nil, err
				}
				w.Flush()
				if tool.ev == nil {
					return nil, fmt.Errorf("define %s (%s): %s", m.Module, b, out.String())
				}
			}
		case "evaluate":
			if tools == nil {
				return nil, fmt.Errorf("evaluate before define")
			}
			if r.InputOf != nil {
				m.Input = inputs[string(*r.InputOf)]
			}
			inputs[string(m.ID)] = m.Input
			if quick {
				m.Input = quickInput(m.Input)
			}
			pair, paired := pairs[ev.name]
			key := m.Description
			if !paired {
				key += "/" + m.Function
			}
			rw := byDesc[key]
			if rw == nil {
				rw = &row{eval: ev.name, file: file, desc: m.Description}
				byDesc[key] = rw
				rows = append(rows, rw)
			}
			for _, tool := range tools {
				// Collect the garbage of the questions before, so that its
				// collection is not charged to this one.
				runtime.GC()
				out, times, cpus, _, err := tool.repeat(m, true)
				if err != nil {
					// A question a backend cannot answer is a finding of
					// the table, not the end of it.
					first, _, _ := strings.Cut(err.Error(), "\n")
					fmt.Fprintf(logw, "%s/%s %s %s (%s): FAILED: %v\n", ev.name, file, m.Function, m.Description, tool.opts.Backend, err)
					msg := fmt.Sprintf("%s failed: %s", m.Function, first)
					if tool.opts.Backend == BackendGo {
						rw.goInvalid = append(rw.goInvalid, msg)
					} else {
						rw.invalid = append(rw.invalid, msg)
					}
					continue
				}
				best, bestCPU := slices.Min(times).Seconds(), 0.0
				if len(cpus) > 0 {
					bestCPU = slices.Min(cpus).Seconds()
				}
				var bad []string
				if r.Reference != nil {
					var got any
					if err := json.Unmarshal(out, &got); err != nil {
						return nil, err
					}
					bad = mismatches(r.Reference.Output, got, "output")
				}
				fmt.Fprintf(logw, "%s/%s %s %s (%s): %s%s\n", ev.name, file, m.Function, m.Description, tool.opts.Backend, seconds(best),
					map[bool]string{true: "", false: " INVALID"}[len(bad) == 0])
				primal := paired && m.Function == pair[0]
				if !paired {
					rw.fn = m.Function
				}
				if tool.opts.Backend == BackendGo {
					rw.goInvalid = append(rw.goInvalid, bad...)
					if primal {
						rw.goPrimal = best
					} else {
						rw.goDeriv = best
					}
					continue
				}
				rw.invalid = append(rw.invalid, bad...)
				if primal {
					rw.primal, rw.primalCPU = best, bestCPU
				} else {
					rw.deriv, rw.derivCPU = best, bestCPU
				}
			}
		}
	}
	return rows, sc.Err()
}

// quickInput sets min_runs to 1 and min_seconds to 0 in an object input.
func quickInput(raw json.RawMessage) json.RawMessage {
	var in map[string]json.RawMessage
	if json.Unmarshal(raw, &in) != nil {
		return raw
	}
	if _, ok := in["min_runs"]; ok {
		in["min_runs"] = json.RawMessage("1")
	}
	if _, ok := in["min_seconds"]; ok {
		in["min_seconds"] = json.RawMessage("0")
	}
	out, _ := json.Marshal(in)
	return out
}

// mismatches applies the evals' comparison rule (see the kit's evals.md):
// same structure, numbers within |e - a| / max(1, |e| + |a|) <= 1e-4.
func mismatches(want, got any, path string) []string {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok {
			return []string{path + ": not a number"}
		}
		if math.Abs(w-g)/math.Max(1, math.Abs(w)+math.Abs(g)) > 1e-4 || math.IsNaN(g) {
			return []string{fmt.Sprintf("%s: %v, want %v", path, g, w)}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{path + ": not a list of the same length"}
		}
		var out []string
		for i := range w {
			out = append(out, mismatches(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return []string{path + ": not an object with the same keys"}
		}
		var out []string
		for k := range w {
			out = append(out, mismatches(w[k], g[k], path+"."+k)...)
		}
		return out
	default:
		if want != got {
			return []string{fmt.Sprintf("%s: %v, want %v", path, got, want)}
		}
	}
	return nil
}

// seconds formats a duration in seconds with three significant digits.
func seconds(s float64) string {
	switch {
	case s == 0:
		return "–"
	case s < 1e-6:
		return fmt.Sprintf("%.3g ns", s*1e9)
	case s < 1e-3:
		return fmt.Sprintf("%.3g µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.3g ms", s*1e3)
	}
	return fmt.Sprintf("%.3g s", s)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3g", a/b)
}

// writeTable writes the rows with the columns of the backends timed, then
// the figures that miss each backend's goals.
func writeTable(w io.Writer, rows []*row, interp, gen bool) {
	head, align := "| eval | case |", "|---|---|"
	if interp {
		head += " primal | derivative | derivative ÷ primal | ÷ manual | ÷ pytorch | primal, wall | derivative, wall |"
		align += "---:|---:|---:|---:|---:|---:|---:|"
	}
	if gen {
		head += " Go primal, wall | Go derivative, wall | Go derivative ÷ primal | Go ÷ manual |"
		align += "---:|---:|---:|---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, align)
	var short, goShort []string
	for _, r := range rows {
		b := baselines[r.eval+"/"+r.desc]
		what := r.file + ": " + r.desc
		if r.fn != "" {
			what += " (" + r.fn + ")"
		}
		if interp && len(r.invalid) > 0 {
			what += " **INVALID**"
		}
		if gen && len(r.goInvalid) > 0 {
			what += " **INVALID on Go**"
		}
		line := fmt.Sprintf("| %s | %s |", r.eval, what)
		if interp {
			// The CPU time, where it could be read, is what the ratios
			// use: on a shared machine the wall-clock time also counts
			// the time the process waited for a core.
			primal, deriv := r.primal, r.deriv
			if r.primalCPU > 0 || r.derivCPU > 0 {
				primal, deriv = r.primalCPU, r.derivCPU
			}
			torch := ratio(deriv, b.torchD)
			if b.torchD > 0 && deriv > b.torchD {
				torch = "**" + torch + "**"
				why := reasons[r.eval]
				if why == "" {
					why = "not profiled yet"
				}
				short = append(short, fmt.Sprintf("%s %s: derivative %s, pytorch %s (%.3g×): %s.",
					r.eval, r.desc, seconds(deriv), seconds(b.torchD), deriv/b.torchD, why))
			}
			line += fmt.Sprintf(" %s | %s | %s | %s | %s | %s | %s |", seconds(primal), seconds(deriv),
				ratio(deriv, primal), ratio(deriv, b.manualD), torch, seconds(r.primal), seconds(r.deriv))
		}
		if gen {
			manual, byPrimal := ratio(r.goDeriv, b.manualD), ratio(r.goDeriv, r.goPrimal)
			if b.manualD > 0 && r.goDeriv > 1.5*b.manualD {
				manual = "**" + manual + "**"
				goShort = append(goShort, fmt.Sprintf("%s %s: derivative %s, manual %s (%.3g×, goal ≤ 1.5×): %s.",
					r.eval, r.desc, seconds(r.goDeriv), seconds(b.manualD), r.goDeriv/b.manualD, goReason(r.eval)))
			}
			if best := bestRatio[r.eval]; best > 0 && r.goPrimal > 0 && r.goDeriv > best*r.goPrimal {
				byPrimal = "**" + byPrimal + "**"
				goShort = append(goShort, fmt.Sprintf("%s %s: derivative ÷ primal %.3g, best published %.3g: %s.",
					r.eval, r.desc, r.goDeriv/r.goPrimal, best, goReason(r.eval)))
			}
			line += fmt.Sprintf(" %s | %s | %s | %s |", seconds(r.goPrimal), seconds(r.goDeriv), byPrimal, manual)
		}
		fmt.Fprintln(w, line)
	}
	var bad []string
	badOn := map[string]bool{}
	for _, r := range rows {
		for _, b := range []struct {
			name string
			on   bool
			msgs []string
		}{{"the interpreter", interp, r.invalid}, {"generated Go", gen, r.goInvalid}} {
			if b.on && len(b.msgs) > 0 {
				bad = append(bad, fmt.Sprintf("%s %s on %s: %s.", r.eval, r.desc, b.name, strings.Join(b.msgs, "; ")))
				badOn[b.name] = true
			}
		}
	}
	if len(bad) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Questions answered wrongly or not at all (their times are missing or not comparable):")
		fmt.Fprintln(w)
		for _, b := range bad {
			fmt.Fprintln(w, "- "+b)
		}
	}
	if interp {
		fmt.Fprintln(w)
		if len(short) == 0 && !badOn["the interpreter"] {
			fmt.Fprintln(w, "Every derivative with a pytorch figure is faster than pytorch's on the interpreter.")
		} else if len(short) == 0 {
			fmt.Fprintln(w, "Every derivative timed with a pytorch figure is faster than pytorch's on the interpreter.")
		} else {
			fmt.Fprintln(w, "Derivatives slower than pytorch's on the interpreter (its goal is to beat every one), and why:")
			fmt.Fprintln(w)
			for _, s := range short {
				fmt.Fprintln(w, "- "+s)
			}
		}
	}
	if gen {
		fmt.Fprintln(w)
		if len(goShort) == 0 && badOn["generated Go"] {
			fmt.Fprintln(w, "On generated Go every derivative timed meets its goals (within 1.5× of manual, derivative ÷ primal at most the best published), but some questions failed (above).")
			return
		}
		if len(goShort) == 0 {
			fmt.Fprintln(w, "On generated Go every derivative with a manual figure is within 1.5× of it, and every derivative ÷ primal with a published best is at or below it.")
			return
		}
		fmt.Fprintln(w, "Figures of generated Go that miss its goals (derivative within 1.5× of manual; derivative ÷ primal at most GMM 2.4, BA 6.4, LSTM 2.7), and why:")
		fmt.Fprintln(w)
		for _, s := range goShort {
			fmt.Fprintln(w, "- "+s)
		}
	}
}

// goReason says why generated Go misses a goal on an eval.
func goReason(eval string) string {
	if why := goReasons[eval]; why != "" {
		return why
	}
	return "not profiled yet"
}

// goReasons say why generated Go misses its goals on an eval, where a
// profile has shown it.
var goReasons = map[string]string{
	"llsq": "the gradient of a loop of m = 128 steps over n-vectors: reverse mode saves one n-vector per step " +
		"(the power t^j its reverse pass reads: 16 MB at n = 16392) and makes about nine separate passes over n " +
		"per step, four forward and five back, where the hand-written gradient is one loop over the points; at " +
		"n = 16 that is ~40 ns per step each way, and from n ≈ 8000, where the recorded cases run once or twice, " +
		"most of the time is the first touch of the tape's fresh pages (over 5 ms per MB on this machine under load)",
	"ode": "one Runge-Kutta step forward and back is about fifty separate passes over the n = 1000 vector " +
		"(every elementwise operation of the four stages, of rhs's concat and take, and of their reverse, a loop " +
		"of its own; the tape's rows copied out), and the gradient runs the primal once more before its VJP for " +
		"the seed's shape (~3.5 µs; a lambda's VJP keeps flat tapes, so its call of primal is not split); " +
		"manual's gradient is a closed form whose cost does not depend on s",
	"lse": "math.Exp on the 2500 elements is 55% of the profile (about 4.4 ns each; the primal alone, 20 µs, " +
		"is slower than manual's whole gradient); the rest is five more passes (maximum, the shifted exp into " +
		"an array, sum, the scaled softmax, the maximum's cotangent at argmax), which a vectorized exp kernel " +
		"and fusing the passes would remove",
	"kmeans": "about twenty passes over [k][n] arrays (distances and their tangents, the running minimum's " +
		"saved states and their tangents, two reverse loops over the centroids with [k][n] accumulators) and " +
		"four products shaped [k][d]x[d][n] or [k][n]x[n][d], whose packing for the AVX2 kernel costs more than " +
		"the multiplications at d = 8 (runtime.packA and packB a quarter of the profile), where the hand-written " +
		"code makes one pass over the points with k·d work each",
}

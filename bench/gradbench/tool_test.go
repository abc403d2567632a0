package gradbench

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// serve runs a tool on the given input lines and returns its response
// lines, decoded, and what it logged.
func serve(t *testing.T, opts Options, input string) ([]map[string]any, string) {
	t.Helper()
	var log bytes.Buffer
	opts.Log = &log
	tool, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tool.Serve(strings.NewReader(input), &out); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	var resps []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if line == "" {
			if out.Len() == 0 {
				break
			}
			t.Fatalf("response %d is an empty line", i)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("response %d is not one JSON object: %v\n%s", i, err, line)
		}
		resps = append(resps, r)
	}
	return resps, log.String()
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// failed checks that r answers id with success false and an error
// containing want.
func failed(t *testing.T, r map[string]any, id float64, want string) {
	t.Helper()
	if r["id"] != id && !(r["id"] == nil && id < 0) {
		t.Errorf("response id %v, want %v", r["id"], id)
	}
	if r["success"] != false {
		t.Errorf("response %v: want success false", r)
	}
	if msg, _ := r["error"].(string); !strings.Contains(msg, want) {
		t.Errorf("error %q does not contain %q", msg, want)
	}
}

func TestHelloSession(t *testing.T) {
	resps, _ := serve(t, Options{}, lines(
		`{"id": 0, "kind": "start", "eval": "hello", "config": {}}`,
		`{"id": 1, "kind": "define", "module": "hello"}`,
		`{"id": 2, "kind": "evaluate", "module": "hello", "function": "square", "input": 3.0}`,
		`{"id": 3, "kind": "analysis", "of": 2, "valid": true}`,
		`{"id": 4, "kind": "evaluate", "module": "hello", "function": "double", "input": 9}`,
		`{"id": 5, "kind": "end"}`,
	))
	if len(resps) != 6 {
		t.Fatalf("%d responses, want 6: %v", len(resps), resps)
	}
	for i, r := range resps {
		if r["id"] != float64(i) {
			t.Errorf("response %d has id %v", i, r["id"])
		}
	}
	if resps[0]["tool"] != "nabla" {
		t.Errorf("start: %v", resps[0])
	}
	if resps[1]["success"] != true || resps[1]["error"] != nil {
		t.Errorf("define: %v", resps[1])
	}
	if ts := timings(resps[1], "prepare"); len(ts) != 1 {
		t.Errorf("define reports %d prepare timings, want 1", len(ts))
	}
	if resps[2]["output"] != 9.0 || resps[4]["output"] != 18.0 {
		t.Errorf("square(3) = %v, double(9) = %v", resps[2]["output"], resps[4]["output"])
	}
	if len(resps[3]) != 1 || len(resps[5]) != 1 {
		t.Errorf("analysis and unknown kinds want a bare acknowledgement, got %v and %v", resps[3], resps[5])
	}
}

// timings returns the nanoseconds of r's timings of the given name.
func timings(r map[string]any, name string) []float64 {
	var ns []float64
	ts, _ := r["timings"].([]any)
	for _, t := range ts {
		m := t.(map[string]any)
		if m["name"] == name {
			ns = append(ns, m["nanoseconds"].(float64))
		}
	}
	return ns
}

func TestRepetitions(t *testing.T) {
	resps, _ := serve(t, Options{}, lines(
		`{"id": 0, "kind": "start"}`,
		`{"id": 1, "kind": "define", "module": "lse"}`,
		`{"id": 2, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [0, 1, 2], "min_runs": 7, "min_seconds": 0}}`,
		`{"id": 3, "kind": "evaluate", "module": "lse", "function": "gradient", "input": {"x": [0, 1, 2], "min_runs": 1, "min_seconds": 0.02}}`,
	))
	if n := len(timings(resps[2], "evaluate")); n != 7 {
		t.Errorf("min_runs 7: %d evaluate timings", n)
	}
	total := 0.0
	for _, ns := range timings(resps[3], "evaluate") {
		if ns <= 0 {
			t.Errorf("timing %v ns", ns)
		}
		total += ns
	}
	if total < 0.02e9 {
		t.Errorf("min_seconds 0.02: the evaluations took %v ns in all", total)
	}
	if g, ok := resps[3]["output"].([]any); !ok || len(g) != 3 {
		t.Errorf("gradient output %v", resps[3]["output"])
	}
}

func TestFailures(t *testing.T) {
	resps, log := serve(t, Options{}, lines(
		`{"id": 0, "kind": "start"}`,
		`{"id": 1, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [1]}}`,
		`{"id": 2, "kind": "define", "module": "nosuch"}`,
		`{"id": 3, "kind": "define", "module": "lse"}`,
		`{"id": 4, "kind": "evaluate", "module": "lse", "function": "nosuch", "input": {"x": [1]}}`,
		`{"id": 5, "kind": "evaluate", "module": "gmm", "function": "objective", "input": {}}`,
		`this is not JSON`,
		`{"id": 7, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"y": [1]}}`,
		`{"id": 8, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": "one"}}`,
		`{"kind": "evaluate"}`,
		`{"id": 10, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [1], "min_runs": -1}}`,
		``,
		`{"id": 11, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": []}}`,
		`{"id": 12, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [1, 2]}}`,
	))
	if len(resps) != 13 {
		t.Fatalf("%d responses, want 13 (one per non-blank line): %v", len(resps), resps)
	}
	failed(t, resps[1], 1, "not defined")
	failed(t, resps[2], 2, `no module "nosuch"`)
	if resps[3]["success"] != true {
		t.Errorf("define lse: %v", resps[3])
	}
	failed(t, resps[4], 4, `no function "nosuch"`)
	failed(t, resps[5], 5, `module "gmm" is not the one defined`)
	failed(t, resps[6], -1, "malformed message")
	failed(t, resps[7], 7, `missing field "x"`)
	failed(t, resps[8], 8, `field "x"`)
	failed(t, resps[9], -1, `no integer "id"`)
	failed(t, resps[10], 10, "min_runs")
	failed(t, resps[11], 11, "NaN or infinite") // log of an empty sum
	if resps[12]["success"] != true {
		t.Errorf("the tool does not recover after failures: %v", resps[12])
	}
	if !strings.Contains(log, "malformed message") {
		t.Errorf("diagnostics do not mention the malformed line:\n%s", log)
	}
}

func TestEndOfInput(t *testing.T) {
	// No newline after the last message, and nothing at all.
	resps, _ := serve(t, Options{}, `{"id": 0, "kind": "start"}`)
	if len(resps) != 1 || resps[0]["id"] != 0.0 {
		t.Errorf("last line without newline: %v", resps)
	}
	if resps, _ := serve(t, Options{}, ""); len(resps) != 0 {
		t.Errorf("empty input: %v", resps)
	}
}

func TestBackends(t *testing.T) {
	if _, err := New(Options{Backend: "llvm"}); err == nil || !strings.Contains(err.Error(), "unknown backend") {
		t.Errorf("New(llvm): %v", err)
	}
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	resps, log := serve(t, Options{Backend: BackendGo}, lines(
		`{"id": 0, "kind": "start"}`,
		`{"id": 1, "kind": "define", "module": "hello"}`,
		`{"id": 2, "kind": "evaluate", "module": "hello", "function": "double", "input": 2.5}`,
		`{"id": 3, "kind": "evaluate", "module": "hello", "function": "square", "input": {"min_runs": 3}}`,
		`{"id": 4, "kind": "define", "module": "lse"}`,
		`{"id": 5, "kind": "evaluate", "module": "lse", "function": "gradient", "input": {"x": [1, 2, 3], "min_runs": 4}}`,
		`{"id": 6, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [1, 2, 3]}}`,
	))
	if cfg, _ := resps[0]["config"].(map[string]any); cfg["backend"] != "go" {
		t.Errorf("start reports config %v", resps[0]["config"])
	}
	if resps[1]["success"] != true || resps[4]["success"] != true {
		t.Fatalf("define: %v, %v\n%s", resps[1], resps[4], log)
	}
	if resps[2]["output"] != 5.0 {
		t.Errorf("double(2.5) = %v", resps[2])
	}
	failed(t, resps[3], 3, "input")
	// The same answers as the interpreter's, one evaluate timing per run.
	want, _ := serve(t, Options{}, lines(
		`{"id": 4, "kind": "define", "module": "lse"}`,
		`{"id": 5, "kind": "evaluate", "module": "lse", "function": "gradient", "input": {"x": [1, 2, 3], "min_runs": 4}}`,
		`{"id": 6, "kind": "evaluate", "module": "lse", "function": "primal", "input": {"x": [1, 2, 3]}}`,
	))
	for k, r := range resps[5:] {
		got, _ := json.Marshal(r["output"])
		exp, _ := json.Marshal(want[k+1]["output"])
		if r["success"] != true || string(got) != string(exp) {
			t.Errorf("go %v, interpreter %v", r, want[k+1])
		}
	}
	if ts, _ := resps[5]["timings"].([]any); len(ts) != 5 {
		t.Errorf("timings %v: want prepare and 4 evaluate", resps[5]["timings"])
	}
}

// TestModulesDefine defines every module: each compiles and has the defs
// of all its functions.
func TestModulesDefine(t *testing.T) {
	if len(Modules()) != 12 {
		t.Errorf("modules %v, want the 12 evals", Modules())
	}
	for _, m := range Modules() {
		resps, log := serve(t, Options{}, lines(`{"id": 0, "kind": "start"}`, `{"id": 1, "kind": "define", "module": "`+m+`"}`))
		if resps[1]["success"] != true {
			t.Errorf("define %s: %v\n%s", m, resps[1], log)
		}
	}
}

// TestTable times a few recorded cases once each on both backends, when
// the kit is beside the repository.
func TestTable(t *testing.T) {
	data := "../../../shared/gradbench/data"
	if _, err := os.Stat(data); err != nil {
		t.Skip("no GradBench kit at", data)
	}
	var out bytes.Buffer
	if err := Table(&out, TableOptions{Data: data, Evals: []string{"lse", "ode"}, Quick: true}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"| eval | case | primal | derivative |", "| Go primal, wall | Go derivative, wall |", "| lse | small: n=2500 |", "| ode | small: n=1000,s=1 |"} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	// Every row has a time in each column (a Go backend that answered
	// nothing would leave dashes).
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "| lse | small") || strings.HasPrefix(line, "| ode | small") {
			cells := strings.Split(strings.Trim(line, "| "), " | ")
			for _, k := range []int{2, 3, 9, 10} {
				if k >= len(cells) || cells[k] == "–" {
					t.Errorf("row without time in column %d: %s", k, line)
				}
			}
		}
	}
	if err := Table(&out, TableOptions{Data: data, Evals: []string{"lse"}, Backends: []string{"llvm"}}); err == nil {
		t.Errorf("an unknown backend: no error")
	}
	if strings.Contains(s, "INVALID") {
		t.Errorf("invalid answers:\n%s", s)
	}
}

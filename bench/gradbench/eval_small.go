package gradbench

import (
	"encoding/json"
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

// The evals whose inputs are a few numbers or vectors and whose outputs
// are a number or an array as the module computes it.

func init() {
	register(&eval{name: "hello", decode: decodeHello, funcs: map[string]*function{
		"square": fn("square", encodeNumber),
		"double": fn("double", encodeNumber),
	}})
	register(&eval{name: "lse", decode: decodeVector("x"), funcs: map[string]*function{
		"primal":   fn("primal", encodeNumber),
		"gradient": fn("gradient", encodeArray),
	}})
	register(&eval{name: "llsq", decode: decodeVectorCount("x", "n", 2), funcs: map[string]*function{
		"primal":   fn("primal", encodeNumber),
		"gradient": fn("gradient", encodeArray),
	}})
	register(&eval{name: "det", decode: decodeDet, funcs: map[string]*function{
		"primal":   fn("primal", encodeNumber),
		"gradient": fn("gradient", encodeArray),
	}})
	register(&eval{name: "ode", decode: decodeVectorCount("x", "s", 1), funcs: map[string]*function{
		"primal":   fn("primal", encodeArray),
		"gradient": fn("gradient", encodeArray),
	}})
	register(&eval{name: "kmeans", decode: decodeKmeans, funcs: map[string]*function{
		"cost": fn("cost", encodeNumber),
		"dir":  fn("dir", encodeArray),
	}})
	register(&eval{name: "particle", decode: decodeParticle, funcs: modes(encodeNumber)})
	register(&eval{name: "saddle", decode: decodeSaddle, funcs: modes(encodeArray)})
}

// modes are particle's and saddle's four functions: rr, rf, fr and ff, each
// a def of the same name.
func modes(enc func([]byte, runtime.Value, *input) ([]byte, error)) map[string]*function {
	m := map[string]*function{}
	for _, name := range []string{"rr", "rf", "fr", "ff"} {
		m[name] = fn(name, enc)
	}
	return m
}

func decodeHello(raw json.RawMessage) (*input, error) {
	var x float64
	if err := json.Unmarshal(raw, &x); err != nil {
		return nil, fmt.Errorf("want a number: %v", err)
	}
	return &input{args: []runtime.Value{f64v(x)}}, nil
}

// decodeVector reads {name: float[n]}.
func decodeVector(name string) func(json.RawMessage) (*input, error) {
	return func(raw json.RawMessage) (*input, error) {
		var in map[string]json.RawMessage
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, err
		}
		x, err := floatField(in, name)
		if err != nil {
			return nil, err
		}
		return &input{args: []runtime.Value{vec(x)}}, nil
	}
}

// decodeVectorCount reads {vname: float[m], cname: int} with the count at
// least least.
func decodeVectorCount(vname, cname string, least int) func(json.RawMessage) (*input, error) {
	return func(raw json.RawMessage) (*input, error) {
		var in map[string]json.RawMessage
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, err
		}
		x, err := floatField(in, vname)
		if err != nil {
			return nil, err
		}
		c, err := count(in, cname, least)
		if err != nil {
			return nil, err
		}
		return &input{args: []runtime.Value{vec(x), i64v(c)}}, nil
	}
}

func decodeDet(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	a, err := floatField(in, "A")
	if err != nil {
		return nil, err
	}
	ell, err := count(in, "ell", 1)
	if err != nil {
		return nil, err
	}
	if ell > 15 {
		// det.nab packs a minor's columns as base-16 digits of an i64; and
		// 16! terms would not fit in memory anyway.
		return nil, fmt.Errorf("ell = %d: expansion by minors is limited to ell <= 15 here", ell)
	}
	if len(a) != ell*ell {
		return nil, fmt.Errorf("the matrix A has %d elements, want ell² = %d", len(a), ell*ell)
	}
	return &input{args: []runtime.Value{vec(a), i64v(ell)}}, nil
}

func decodeKmeans(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	var p, c [][]float64
	if err := field(in, "points", &p); err != nil {
		return nil, err
	}
	if err := field(in, "centroids", &c); err != nil {
		return nil, err
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("no centroids")
	}
	d := width(c, 0)
	pv, err := f64Matrix("points", p, d)
	if err != nil {
		return nil, err
	}
	cv, err := f64Matrix("centroids", c, d)
	if err != nil {
		return nil, err
	}
	return &input{args: []runtime.Value{pv, cv}}, nil
}

func decodeParticle(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	var w float64
	if err := field(in, "w", &w); err != nil {
		return nil, err
	}
	return &input{args: []runtime.Value{f64v(w)}}, nil
}

func decodeSaddle(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	start, err := floatField(in, "start")
	if err != nil {
		return nil, err
	}
	if len(start) != 2 {
		return nil, fmt.Errorf("start has %d elements, want 2", len(start))
	}
	return &input{args: []runtime.Value{vec(start)}}, nil
}

// field decodes the field name of an object input into dst.
func field(in map[string]json.RawMessage, name string, dst any) error {
	raw, ok := in[name]
	if !ok {
		return fmt.Errorf("missing field %q", name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("field %q: %v", name, err)
	}
	return nil
}

func floatField(in map[string]json.RawMessage, name string) ([]float64, error) {
	var x []float64
	if err := field(in, name, &x); err != nil {
		return nil, err
	}
	return x, nil
}

// count reads an integer field that must be at least least.
func count(in map[string]json.RawMessage, name string, least int) (int, error) {
	var c int
	if err := field(in, name, &c); err != nil {
		return 0, err
	}
	if c < least {
		return 0, fmt.Errorf("field %q is %d, want at least %d", name, c, least)
	}
	return c, nil
}

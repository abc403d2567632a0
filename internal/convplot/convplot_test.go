package convplot

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotutil"

	"github.com/nabla-lang/nabla/runtime"
)

// converging returns n records of a method converging linearly.
func converging(method string, n int, rate float64) []runtime.Progress {
	out := make([]runtime.Progress, n)
	for i := range out {
		v := math.Pow(rate, float64(i))
		out[i] = runtime.Progress{Method: method, Iteration: int64(i + 1), Value: 10 * v, GradNorm: v, Step: v / 2}
	}
	return out
}

func TestGroup(t *testing.T) {
	recs := append(converging("lbfgs", 3, 0.5), converging("newton", 2, 0.1)...)
	recs = append(recs, converging("lbfgs", 2, 0.5)...) // a second run continues the line
	g := Group(recs)
	if len(g) != 2 || g[0].Name != "lbfgs" || len(g[0].Records) != 5 || g[1].Name != "newton" || len(g[1].Records) != 2 {
		t.Fatalf("Group: %+v", g)
	}
}

func TestFormat(t *testing.T) {
	for path, want := range map[string]string{"a.png": "png", "dir/b.SVG": "svg", "c.pdf": "", "d": ""} {
		got, err := Format(path)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("Format(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
}

// TestPNG renders two methods and decodes the image: its size is Size at
// the canvas resolution, and both methods' line colors are drawn.
func TestPNG(t *testing.T) {
	recs := append(converging("lbfgs", 30, 0.5), converging("newton", 8, 0.05)...)
	var buf bytes.Buffer
	if err := Write(&buf, "png", recs); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if w, h := b.Dx(), b.Dy(); w < 400 || h < 150 || math.Abs(float64(w)/float64(h)-2.4) > 0.05 {
		t.Fatalf("image is %d×%d; want the 24:10 aspect of Size", w, h)
	}
	seen := map[int]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			for i := range 2 {
				if sameColor(img.At(x, y), plotutil.Color(i)) {
					seen[i]++
				}
			}
		}
	}
	for i, name := range []string{"lbfgs", "newton"} {
		if seen[i] < 50 {
			t.Errorf("%s's line color covers %d pixels", name, seen[i])
		}
	}
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2
}

// TestSVG renders and parses the SVG; the legend names each method.
func TestSVG(t *testing.T) {
	recs := append(converging("gauss_newton", 12, 0.3), converging("levenberg_marquardt", 9, 0.2)...)
	var buf bytes.Buffer
	if err := Write(&buf, "svg", recs); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	d := xml.NewDecoder(strings.NewReader(text))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the SVG does not parse: %v", err)
		}
	}
	for _, name := range []string{"gauss_newton", "levenberg_marquardt", "objective", "gradient norm"} {
		if !strings.Contains(text, name) {
			t.Errorf("the SVG does not mention %s", name)
		}
	}
}

// TestDegenerate: no records, one record, and values a log scale cannot
// show all give an image, never a panic.
func TestDegenerate(t *testing.T) {
	for name, recs := range map[string][]runtime.Progress{
		"none":     nil,
		"one":      converging("gd", 1, 0.5),
		"zeros":    {{Method: "gd", Iteration: 1}, {Method: "gd", Iteration: 2}},
		"nan, inf": {{Method: "gd", Iteration: 1, Value: math.NaN(), GradNorm: math.Inf(1)}, {Method: "gd", Iteration: 2, Value: -1, GradNorm: 2}},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, "png", recs); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := png.Decode(&buf); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := Write(io.Discard, "pdf", nil); err == nil {
		t.Error("format pdf: no error")
	}
}

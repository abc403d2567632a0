module github.com/nabla-lang/nabla

go 1.26.0

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/google/go-cmp v0.7.0
	gonum.org/v1/gonum v0.17.0
	pgregory.net/rapid v1.3.0
)

require golang.org/x/sys v0.49.0

require golang.org/x/tools v0.30.0 // indirect

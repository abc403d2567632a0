// Package gengo holds the benchmark programs of nablabench compiled to Go
// by nabla gen (models_nabla.go, generated from models.nab) and the same
// functions written by hand in Go (hand.go), which nablabench -go times
// against each other.
package gengo

//go:generate go run github.com/nabla-lang/nabla/cmd/nabla gen -pkg gengo -o models_nabla.go models.nab

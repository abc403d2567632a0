package rewrite

// Every test of this package checks the use counts that the let rules
// read against a walk of the let's body (see varUses).
func init() { checkUses = true }

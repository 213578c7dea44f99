//go:build race

package main

// raceOn: the race detector multiplies memory, so RSS bounds do not apply.
const raceOn = true

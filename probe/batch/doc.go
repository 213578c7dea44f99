// Package batch runs many probe targets in one process: it reads a
// targets file, keeps a shard of it, skips what an earlier run finished,
// limits how hard each mail server is pressed, and streams one result per
// target as it completes.
//
// The parts are independent so each can be tested alone: ReadTargets,
// Shard, ReadDone, Writer, Limiter and Progress. Run ties them together.
package batch

package batch

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one of N parts of a targets list, chosen by the target's mail
// domain, so every target of a domain (and so every connection to its MX
// hosts) falls to the same machine and the per-server limits hold across
// machines. K counts from 0, as a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX does. The zero Shard holds every target.
type Shard struct {
	K, N int
}

// ParseShard reads "K/N" with 0 <= K < N.
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(strings.TrimSpace(ks))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q is not K/N (e.g. 0/4)", s)
	}
	if n < 1 || n > 1<<20 {
		return Shard{}, fmt.Errorf("shard %q: N must be from 1 to %d", s, 1<<20)
	}
	if k < 0 || k >= n {
		return Shard{}, fmt.Errorf("shard %q: K counts from 0 and must be below N (0 to %d)", s, n-1)
	}
	return Shard{K: k, N: n}, nil
}

// Has tells whether the shard holds targets of domain. The hash is
// FNV-1a 64 of the domain in lower case without a trailing dot: stable
// across runs, machines, versions and platforms.
func (s Shard) Has(domain string) bool {
	if s.N <= 1 {
		return true
	}
	return ShardOf(domain, s.N) == s.K
}

// ShardOf is the shard, from 0 to n-1, that holds domain.
func ShardOf(domain string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(strings.TrimSuffix(strings.ToLower(domain), ".")))
	return int(h.Sum64() % uint64(n))
}

// String is "K/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

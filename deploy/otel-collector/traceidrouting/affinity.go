package traceidroutingexporter

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// affinity remembers which replica each recent trace went to, so a membership change moves
// no trace that is under way to a replica still in the set: a session's trace lives as long
// as the session (minutes to an hour), and a split trace is decided twice. Bounded: entries
// idle for ttl are swept, and past max new traces are routed by the hash alone.
type affinity struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	entries map[pcommon.TraceID]affinityEntry
}

type affinityEntry struct {
	endpoint string
	seen     time.Time
}

func newAffinity(ttl time.Duration, max int) *affinity {
	return &affinity{ttl: ttl, max: max, entries: map[pcommon.TraceID]affinityEntry{}}
}

func (a *affinity) get(id pcommon.TraceID, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	entry, ok := a.entries[id]
	if !ok || now.Sub(entry.seen) > a.ttl {
		return "", false
	}
	entry.seen = now
	a.entries[id] = entry
	return entry.endpoint, true
}

func (a *affinity) put(id pcommon.TraceID, endpoint string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.entries[id]; ok || len(a.entries) < a.max {
		a.entries[id] = affinityEntry{endpoint: endpoint, seen: now}
	}
}

func (a *affinity) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, entry := range a.entries {
		if now.Sub(entry.seen) > a.ttl {
			delete(a.entries, id)
		}
	}
}

func (a *affinity) size() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.entries)
}

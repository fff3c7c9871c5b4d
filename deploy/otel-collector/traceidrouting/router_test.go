package traceidroutingexporter

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

func traceID(i int) pcommon.TraceID {
	var id pcommon.TraceID
	id[0], id[1], id[2], id[15] = byte(i), byte(i>>8), byte(i>>16), 7
	return id
}

func membersOf(endpoints ...string) []member {
	out := make([]member, len(endpoints))
	for i, e := range endpoints {
		out[i] = member{endpoint: e}
	}
	return out
}

func TestPickIsStableAndSpreads(t *testing.T) {
	members := membersOf("a:4317", "b:4317", "c:4317")
	counts := make([]int, 3)
	for i := 0; i < 3000; i++ {
		first := pick(members, traceID(i))
		if again := pick(members, traceID(i)); again != first {
			t.Fatalf("trace %d picked %d then %d", i, first, again)
		}
		counts[first]++
	}
	for i, n := range counts {
		if n < 700 {
			t.Fatalf("endpoint %d got %d of 3000 traces: not spread", i, n)
		}
	}
}

// Adding a replica moves only the traces it now wins (about 1/4 of them, all to it);
// removing one moves only the traces it held.
func TestAMembershipChangeMovesOnlyTheChangedShare(t *testing.T) {
	three := membersOf("a:4317", "b:4317", "c:4317")
	four := membersOf("a:4317", "b:4317", "c:4317", "d:4317")
	two := membersOf("a:4317", "c:4317")
	const n = 20000
	movedUp, movedDown, heldByB := 0, 0, 0
	for i := 0; i < n; i++ {
		before := three[pick(three, traceID(i))].endpoint
		after := four[pick(four, traceID(i))].endpoint
		if before != after {
			movedUp++
			if after != "d:4317" {
				t.Fatalf("trace %d moved from %s to %s, not to the new replica", i, before, after)
			}
		}
		down := two[pick(two, traceID(i))].endpoint
		if before == "b:4317" {
			heldByB++
		}
		if before != down {
			movedDown++
			if before != "b:4317" {
				t.Fatalf("trace %d moved from %s to %s though %s stayed", i, before, down, before)
			}
		}
	}
	if share := float64(movedUp) / n; share < 0.22 || share > 0.28 {
		t.Fatalf("adding a 4th replica moved %.3f of the traces, expected about 0.25", share)
	}
	if movedDown != heldByB {
		t.Fatalf("removing b moved %d traces, b held %d", movedDown, heldByB)
	}
}

// sink is a fake replica: it records the spans it receives, by trace id.
type sink struct {
	endpoint string
	mu       *sync.Mutex
	got      map[pcommon.TraceID]map[string]int // trace → endpoint → spans
	stopped  bool
}

func (s *sink) Start(context.Context, component.Host) error { return nil }
func (s *sink) Shutdown(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	return nil
}
func (s *sink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (s *sink) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return fmt.Errorf("%s got spans after it was retired", s.endpoint)
	}
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		for j := 0; j < td.ResourceSpans().At(i).ScopeSpans().Len(); j++ {
			spans := td.ResourceSpans().At(i).ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				id := spans.At(k).TraceID()
				if s.got[id] == nil {
					s.got[id] = map[string]int{}
				}
				s.got[id][s.endpoint]++
			}
		}
	}
	return nil
}

// fakeDNS is a resolver whose answer the test changes.
type fakeDNS struct {
	mu     sync.Mutex
	answer []string
	err    error
}

func (f *fakeDNS) set(answer []string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer, f.err = answer, err
}

func (f *fakeDNS) resolve(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return normalise(f.answer), f.err
}

func testRouter(t *testing.T, dns *fakeDNS, affinityTTL time.Duration) (*router, map[pcommon.TraceID]map[string]int) {
	t.Helper()
	mu := &sync.Mutex{}
	got := map[pcommon.TraceID]map[string]int{}
	r := &router{
		logger:  zap.NewNop(),
		resolve: dns.resolve,
		newChild: func(_ context.Context, endpoint string) (exporter.Traces, error) {
			return &sink{endpoint: endpoint, mu: mu, got: got}, nil
		},
		dynamic:  true,
		interval: time.Hour, // the test calls refresh itself
		timeout:  time.Second,
		stop:     make(chan struct{}),
	}
	if affinityTTL > 0 {
		r.affinity = newAffinity(affinityTTL, 1000000)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r, got
}

// send: one span of each trace in [from, to), one batch.
func send(t *testing.T, r *router, from, to int) {
	t.Helper()
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := from; i < to; i++ {
		span := spans.AppendEmpty()
		span.SetTraceID(traceID(i))
		span.SetName("chat")
	}
	if err := r.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
}

func endpointsOf(r *router) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []string{}
	for _, m := range r.members {
		out = append(out, m.endpoint)
	}
	return out
}

// The set follows the resolver's answer; traces under way when a replica is added stay where
// they began (each trace whole at exactly one replica), new traces spread over the new set,
// and a failed resolution keeps the set.
func TestTheRouterFollowsAChangingResolverWithEveryTraceWhole(t *testing.T) {
	dns := &fakeDNS{answer: []string{"10.0.0.1:4317", "10.0.0.2:4317"}}
	r, got := testRouter(t, dns, time.Hour)
	send(t, r, 0, 300) // traces 0-299 begin on two replicas
	dns.set([]string{"10.0.0.3:4317", "10.0.0.1:4317", "10.0.0.2:4317"}, nil)
	if err := r.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e := endpointsOf(r); len(e) != 3 {
		t.Fatalf("replicas after scale-up: %v", e)
	}
	send(t, r, 0, 600) // the old traces go on; 300-599 are new
	dns.set(nil, fmt.Errorf("SERVFAIL"))
	if err := r.refresh(context.Background()); err == nil || len(endpointsOf(r)) != 3 {
		t.Fatalf("a failed resolution changed the set: %v", endpointsOf(r))
	}
	send(t, r, 0, 600)
	newOnThird := 0
	for i := 0; i < 600; i++ {
		at := got[traceID(i)]
		if len(at) != 1 {
			t.Fatalf("trace %d split across %v", i, at)
		}
		for endpoint, spans := range at {
			want := 3
			if i >= 300 {
				want = 2
			}
			if spans != want {
				t.Fatalf("trace %d: %d spans at %s, want %d", i, spans, endpoint, want)
			}
			if i < 300 && endpoint == "10.0.0.3:4317" {
				t.Fatalf("trace %d, under way before the scale-up, moved to the new replica", i)
			}
			if i >= 300 && endpoint == "10.0.0.3:4317" {
				newOnThird++
			}
		}
	}
	if newOnThird < 60 || newOnThird > 140 { // about a third of 300
		t.Fatalf("the new replica took %d of 300 new traces", newOnThird)
	}
}

// A replica that leaves is retired (its exporter shut down) and its traces move to the others;
// no trace of a remaining replica moves.
func TestAReplicaThatLeavesIsRetiredAndOnlyItsTracesMove(t *testing.T) {
	dns := &fakeDNS{answer: []string{"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"}}
	r, got := testRouter(t, dns, time.Hour)
	send(t, r, 0, 300)
	before := map[int]string{}
	for i := 0; i < 300; i++ {
		for endpoint := range got[traceID(i)] {
			before[i] = endpoint
		}
	}
	dns.set([]string{"10.0.0.1:4317", "10.0.0.3:4317"}, nil)
	if err := r.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	send(t, r, 0, 300) // a sink that was retired fails the batch
	for i := 0; i < 300; i++ {
		at := got[traceID(i)]
		if before[i] != "10.0.0.2:4317" && len(at) != 1 {
			t.Fatalf("trace %d of a remaining replica moved: %v", i, at)
		}
		if before[i] == "10.0.0.2:4317" && at["10.0.0.2:4317"] != 1 {
			t.Fatalf("trace %d: %v", i, at)
		}
	}
	if e := endpointsOf(r); !slices.Equal(e, []string{"10.0.0.1:4317", "10.0.0.3:4317"}) {
		t.Fatalf("replicas: %v", e)
	}
}

// Without affinity, routing is the hash over the current set: after a scale-up exactly the
// traces the new replica wins go to it.
func TestWithoutAffinityTheHashAloneDecides(t *testing.T) {
	dns := &fakeDNS{answer: []string{"10.0.0.1:4317", "10.0.0.2:4317"}}
	r, got := testRouter(t, dns, 0)
	dns.set([]string{"10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317"}, nil)
	if err := r.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	send(t, r, 0, 300)
	three := membersOf("10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317")
	for i := 0; i < 300; i++ {
		if want := three[pick(three, traceID(i))].endpoint; got[traceID(i)][want] != 1 {
			t.Fatalf("trace %d at %v, want %s", i, got[traceID(i)], want)
		}
	}
}

func TestAffinityIsBoundedAndExpires(t *testing.T) {
	a := newAffinity(time.Minute, 2)
	now := time.Now()
	a.put(traceID(1), "x", now)
	a.put(traceID(2), "y", now)
	a.put(traceID(3), "z", now) // over the bound: not remembered
	if _, ok := a.get(traceID(3), now); ok || a.size() != 2 {
		t.Fatalf("bound not kept: %d entries", a.size())
	}
	if e, ok := a.get(traceID(1), now.Add(30*time.Second)); !ok || e != "x" {
		t.Fatal("a trace lost its replica within the ttl")
	}
	a.sweep(now.Add(80 * time.Second)) // 1 was seen at +30 s, 2 at 0
	if a.size() != 1 {
		t.Fatalf("sweep kept %d entries, want 1", a.size())
	}
}

func TestConfigNeedsExactlyOneWayToFindTheReplicas(t *testing.T) {
	cases := map[string]Config{
		"nothing":      {},
		"two ways":     {Endpoints: []string{"a:1"}, Resolver: ResolverConfig{DNS: &DNSConfig{Hostname: "s", Port: 4317}}},
		"no hostname":  {Resolver: ResolverConfig{DNS: &DNSConfig{Port: 4317}}},
		"no port":      {Resolver: ResolverConfig{DNS: &DNSConfig{Hostname: "s"}}},
		"duplicates":   {Resolver: ResolverConfig{Static: &StaticConfig{Endpoints: []string{"a:1", "a:1"}}}},
		"empty static": {Resolver: ResolverConfig{Static: &StaticConfig{}}},
	}
	for name, cfg := range cases {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := []Config{
		{Endpoints: []string{"a:1", "b:1"}},
		{Resolver: ResolverConfig{Static: &StaticConfig{Endpoints: []string{"a:1"}}}},
		{Resolver: ResolverConfig{DNS: &DNSConfig{Hostname: "otelcol-sampler", Port: 4317}}},
	}
	for _, cfg := range good {
		if err := cfg.Validate(); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

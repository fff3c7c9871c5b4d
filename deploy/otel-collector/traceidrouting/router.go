package traceidroutingexporter

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

// newChildFunc makes the exporter for one endpoint (an OTLP/gRPC exporter; tests inject fakes).
type newChildFunc func(ctx context.Context, endpoint string) (exporter.Traces, error)

// member is one replica: its endpoint and the exporter that sends to it.
type member struct {
	endpoint string
	exporter exporter.Traces
}

type router struct {
	logger   *zap.Logger
	resolve  resolveFunc
	newChild newChildFunc
	dynamic  bool // re-resolve every interval
	interval time.Duration
	timeout  time.Duration
	affinity *affinity

	host    component.Host
	mu      sync.RWMutex // ConsumeTraces reads members; a membership change writes them
	members []member     // sorted by endpoint
	retired sync.WaitGroup
	stop    chan struct{}
	loop    sync.WaitGroup
	lastErr string
}

func newRouter(_ context.Context, set exporter.Settings, cfg *Config) (*router, error) {
	factory := otlpexporter.NewFactory()
	newChild := func(ctx context.Context, endpoint string) (exporter.Traces, error) {
		childCfg := factory.CreateDefaultConfig().(*otlpexporter.Config)
		childCfg.ClientConfig.Endpoint = endpoint
		childCfg.ClientConfig.TLS.Insecure = cfg.Insecure
		childSet := set
		name := strings.NewReplacer(":", "_", "[", "", "]", "").Replace(endpoint)
		childSet.ID = component.NewIDWithName(factory.Type(), set.ID.String()+"-"+name)
		return factory.CreateTraces(ctx, childSet, childCfg)
	}
	r := &router{
		logger:   set.Logger,
		resolve:  resolverFor(cfg),
		newChild: newChild,
		interval: defaultInterval,
		timeout:  defaultTimeout,
		stop:     make(chan struct{}),
	}
	if dns := cfg.Resolver.DNS; dns != nil {
		r.dynamic = true
		if dns.Interval > 0 {
			r.interval = dns.Interval
		}
		if dns.Timeout > 0 {
			r.timeout = dns.Timeout
		}
	}
	if ttl := cfg.affinity(); ttl > 0 {
		r.affinity = newAffinity(ttl, cfg.maxAffinity())
	}
	return r, nil
}

// Start resolves once (a DNS name that does not resolve yet is not fatal: the router keeps
// trying), then, for a DNS name, re-resolves every interval.
func (r *router) Start(ctx context.Context, host component.Host) error {
	r.host = host
	if err := r.refresh(ctx); err != nil && !r.dynamic {
		return err
	}
	if r.dynamic || r.affinity != nil {
		r.loop.Add(1)
		go r.run()
	}
	return nil
}

func (r *router) run() {
	defer r.loop.Done()
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-ticker.C:
			if r.dynamic {
				_ = r.refresh(context.Background())
			}
			if r.affinity != nil {
				r.affinity.sweep(now)
			}
		}
	}
}

// refresh resolves the set and, when it changed, starts exporters for the new endpoints,
// swaps the set, and retires the exporters of endpoints that left (their queues drain in the
// background). A failed or empty resolution keeps the set as it was.
func (r *router) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	endpoints, err := r.resolve(ctx)
	cancel()
	if err == nil && len(endpoints) == 0 {
		err = errors.New("no endpoint")
	}
	if err != nil {
		if msg := err.Error(); msg != r.lastErr { // once per kind of failure, not every tick
			r.lastErr = msg
			r.logger.Warn("traceidrouting: keeping the replicas as they were", zap.Error(err))
		}
		return err
	}
	r.lastErr = ""
	r.mu.RLock()
	current := make([]string, len(r.members))
	for i, m := range r.members {
		current[i] = m.endpoint
	}
	r.mu.RUnlock()
	if slices.Equal(current, endpoints) {
		return nil
	}
	kept := map[string]exporter.Traces{}
	r.mu.RLock()
	for _, m := range r.members {
		kept[m.endpoint] = m.exporter
	}
	r.mu.RUnlock()
	next := make([]member, 0, len(endpoints))
	for _, endpoint := range endpoints {
		child, ok := kept[endpoint]
		if ok {
			delete(kept, endpoint)
		} else {
			if child, err = r.newChild(context.Background(), endpoint); err == nil {
				err = child.Start(context.Background(), r.host)
			}
			if err != nil {
				r.logger.Warn("traceidrouting: cannot export to a new replica",
					zap.String("endpoint", endpoint), zap.Error(err))
				continue
			}
		}
		next = append(next, member{endpoint: endpoint, exporter: child})
	}
	r.mu.Lock()
	r.members = next
	r.mu.Unlock()
	r.logger.Info("traceidrouting: replicas changed",
		zap.Strings("from", current), zap.Strings("to", endpoints))
	for endpoint, child := range kept { // left the set: no new data reaches them now
		r.retired.Add(1)
		go func(endpoint string, child exporter.Traces) {
			defer r.retired.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := child.Shutdown(ctx); err != nil {
				r.logger.Warn("traceidrouting: a departed replica's queue was not fully sent",
					zap.String("endpoint", endpoint), zap.Error(err))
			}
		}(endpoint, child)
	}
	return nil
}

func (r *router) Shutdown(ctx context.Context) error {
	close(r.stop)
	r.loop.Wait()
	r.mu.Lock()
	members := r.members
	r.members = nil
	r.mu.Unlock()
	var errs error
	for _, m := range members {
		errs = errors.Join(errs, m.exporter.Shutdown(ctx))
	}
	r.retired.Wait()
	return errs
}

func (r *router) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// pick is rendezvous hashing: the endpoint with the highest hash of (endpoint, trace id). The
// same trace id always picks the same endpoint of a set, and adding or removing an endpoint
// moves only the traces that endpoint wins or held.
func pick(members []member, id pcommon.TraceID) int {
	best, bestScore := 0, uint64(0)
	for i, m := range members {
		h := fnv.New64a()
		_, _ = h.Write([]byte(m.endpoint))
		_, _ = h.Write(id[:])
		if score := h.Sum64(); i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// destination: the replica the trace already went to, if it is still in the set, else the
// rendezvous choice over the current set (remembered for the trace's next spans).
func (r *router) destination(members []member, id pcommon.TraceID, now time.Time) int {
	if r.affinity != nil {
		if endpoint, ok := r.affinity.get(id, now); ok {
			if i, found := slices.BinarySearchFunc(members, endpoint, func(m member, e string) int {
				return strings.Compare(m.endpoint, e)
			}); found {
				return i
			}
		}
	}
	dest := pick(members, id)
	if r.affinity != nil {
		r.affinity.put(id, members[dest].endpoint, now)
	}
	return dest
}

// ConsumeTraces splits the batch by destination, keeping each span's resource and scope.
func (r *router) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	r.mu.RLock()
	defer r.mu.RUnlock() // a membership change waits for this batch to be handed over
	members := r.members
	if len(members) == 0 {
		return fmt.Errorf("traceidrouting: no replica to send %d spans to (none resolved yet)",
			td.SpanCount())
	}
	now := time.Now()
	chosen := map[pcommon.TraceID]int{}
	out := make([]ptrace.Traces, len(members))
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		resources := make([]ptrace.ResourceSpans, len(members))
		scopes := make([]ptrace.ScopeSpans, len(members))
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			clear(scopes)
			for s := 0; s < ss.Spans().Len(); s++ {
				span := ss.Spans().At(s)
				dest, ok := chosen[span.TraceID()]
				if !ok {
					dest = r.destination(members, span.TraceID(), now)
					chosen[span.TraceID()] = dest
				}
				if out[dest] == (ptrace.Traces{}) {
					out[dest] = ptrace.NewTraces()
				}
				if resources[dest] == (ptrace.ResourceSpans{}) {
					resources[dest] = out[dest].ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(resources[dest].Resource())
					resources[dest].SetSchemaUrl(rs.SchemaUrl())
				}
				if scopes[dest] == (ptrace.ScopeSpans{}) {
					scopes[dest] = resources[dest].ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(scopes[dest].Scope())
					scopes[dest].SetSchemaUrl(ss.SchemaUrl())
				}
				span.CopyTo(scopes[dest].Spans().AppendEmpty())
			}
		}
	}
	var errs error
	for dest, batch := range out {
		if batch != (ptrace.Traces{}) {
			errs = errors.Join(errs, members[dest].exporter.ConsumeTraces(ctx, batch))
		}
	}
	return errs
}

package traceidroutingexporter

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

type router struct {
	endpoints []string
	children  []exporter.Traces
}

func newRouter(ctx context.Context, set exporter.Settings, cfg *Config) (*router, error) {
	factory := otlpexporter.NewFactory()
	r := &router{endpoints: cfg.Endpoints}
	for i, endpoint := range cfg.Endpoints {
		childCfg := factory.CreateDefaultConfig().(*otlpexporter.Config)
		childCfg.ClientConfig.Endpoint = endpoint
		childCfg.ClientConfig.TLS.Insecure = cfg.Insecure
		childSet := set
		childSet.ID = component.NewIDWithName(factory.Type(), set.ID.String()+"-"+strconv.Itoa(i))
		child, err := factory.CreateTraces(ctx, childSet, childCfg)
		if err != nil {
			return nil, err
		}
		r.children = append(r.children, child)
	}
	return r, nil
}

func (r *router) Start(ctx context.Context, host component.Host) error {
	for _, child := range r.children {
		if err := child.Start(ctx, host); err != nil {
			return err
		}
	}
	return nil
}

func (r *router) Shutdown(ctx context.Context) error {
	var errs error
	for _, child := range r.children {
		errs = errors.Join(errs, child.Shutdown(ctx))
	}
	return errs
}

func (r *router) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// pick is rendezvous hashing: the endpoint with the highest hash of (endpoint, trace id). The
// same trace id always picks the same endpoint, and removing one endpoint moves only its share.
func (r *router) pick(id pcommon.TraceID) int {
	best, bestScore := 0, uint64(0)
	for i, endpoint := range r.endpoints {
		h := fnv.New64a()
		_, _ = h.Write([]byte(endpoint))
		_, _ = h.Write(id[:])
		if score := h.Sum64(); i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// ConsumeTraces splits the batch by destination, keeping each span's resource and scope.
func (r *router) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	out := make([]ptrace.Traces, len(r.children))
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		scopes := make([]ptrace.ScopeSpans, len(r.children))
		resources := make([]ptrace.ResourceSpans, len(r.children))
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			for k := range scopes {
				scopes[k] = ptrace.ScopeSpans{}
			}
			for s := 0; s < ss.Spans().Len(); s++ {
				span := ss.Spans().At(s)
				dest := r.pick(span.TraceID())
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
			errs = errors.Join(errs, r.children[dest].ConsumeTraces(ctx, batch))
		}
	}
	return errs
}

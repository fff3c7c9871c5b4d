package projectauthextension

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.uber.org/zap"
)

// ErrNoCredential is why a batch without a project credential is not forwarded.
var ErrNoCredential = errors.New("projectauth: no project credential in the sender's request " +
	"metadata: not forwarded to any project (the Job must send its project's Langfuse " +
	"Authorization header in OTEL_EXPORTER_OTLP_HEADERS)")

type authenticator struct {
	key          string
	scheme       string
	logger       *zap.Logger
	unattributed atomic.Int64
}

var _ extensionauth.HTTPClient = (*authenticator)(nil)

func newAuthenticator(cfg *Config, logger *zap.Logger) *authenticator {
	return &authenticator{key: cfg.MetadataKey, scheme: cfg.Scheme, logger: logger}
}

func (a *authenticator) Start(context.Context, component.Host) error { return nil }

func (a *authenticator) Shutdown(context.Context) error { return nil }

// RoundTripper wraps the exporter's transport: each request carries its batch's credential.
func (a *authenticator) RoundTripper(base http.RoundTripper) (http.RoundTripper, error) {
	return &roundTripper{auth: a, base: base}, nil
}

// credential returns the one credential of the batch in ctx, or "" when there is none, several
// or one of another scheme: a batch is forwarded only when it is attributable to one project.
func (a *authenticator) credential(ctx context.Context) string {
	values := client.FromContext(ctx).Metadata.Get(a.key)
	if len(values) != 1 {
		return ""
	}
	value := strings.TrimSpace(values[0])
	if value == "" || strings.ContainsAny(value, "\r\n") {
		return ""
	}
	if a.scheme != "" {
		scheme, rest, found := strings.Cut(value, " ")
		if !found || !strings.EqualFold(scheme, a.scheme) || strings.TrimSpace(rest) == "" {
			return ""
		}
	}
	return value
}

type roundTripper struct {
	auth *authenticator
	base http.RoundTripper
}

// RoundTrip sets the batch's credential, or refuses permanently (no retry, no other project).
func (r *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	value := r.auth.credential(req.Context())
	if value == "" {
		n := r.auth.unattributed.Add(1)
		if n == 1 || n%100 == 0 {
			// Never the header's value: only that it was missing, and how often.
			r.auth.logger.Warn("span batch without a project credential: not forwarded",
				zap.String("metadata_key", r.auth.key), zap.Int64("batches_so_far", n))
		}
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, consumererror.NewPermanent(ErrNoCredential)
	}
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", value)
	return r.base.RoundTrip(out)
}

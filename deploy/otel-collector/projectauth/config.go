// Package projectauthextension forwards, on each export to Langfuse, the Authorization header
// that the sending Job presented to the collector's OTLP receiver, so each platform project's
// spans reach the Langfuse project whose keys that Job holds, with no per-project collector
// config. The receiver keeps the header in the request's client metadata (include_metadata),
// the batch processor batches by it (metadata_keys), and this extension, as the exporter's
// client authenticator, sets it on the outgoing request. A batch with no credential is never
// sent anywhere: it fails permanently (counted in otelcol_exporter_send_failed_spans) and is
// logged without any header value. Written for claude-code-runner's collector distribution.
package projectauthextension

import (
	"errors"
	"strings"

	"go.opentelemetry.io/collector/component"
)

// Config names the client metadata key that holds the project's credential.
type Config struct {
	// MetadataKey is the receiver's metadata key (an incoming header name) holding the
	// credential; it must also be one of the batch processor's metadata_keys. Default:
	// authorization.
	MetadataKey string `mapstructure:"metadata_key"`
	// Scheme, when set, is the only authorization scheme forwarded (e.g. Basic, Langfuse's);
	// a credential of another scheme counts as none. Default: Basic.
	Scheme string `mapstructure:"scheme"`
}

var _ component.Config = (*Config)(nil)

// Validate refuses an empty metadata key: without one nothing could ever be forwarded.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.MetadataKey) == "" {
		return errors.New("projectauth: metadata_key is empty: set it to the header the " +
			"senders put their credential in (e.g. authorization)")
	}
	return nil
}

package projectauthextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

var componentType = component.MustNewType("projectauth")

// NewFactory creates the extension's factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		componentType,
		func() component.Config { return &Config{MetadataKey: "authorization", Scheme: "Basic"} },
		func(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
			return newAuthenticator(cfg.(*Config), set.Logger), nil
		},
		component.StabilityLevelDevelopment,
	)
}

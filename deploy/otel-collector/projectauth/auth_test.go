package projectauthextension

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.uber.org/zap"
)

type recorder struct{ got []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = append(r.got, req.Header.Get("Authorization"))
	return httptest.NewRecorder().Result(), nil
}

func send(t *testing.T, md map[string][]string) (*recorder, error) {
	t.Helper()
	a := newAuthenticator(&Config{MetadataKey: "authorization", Scheme: "Basic"}, zap.NewNop())
	rec := &recorder{}
	rt, err := a.RoundTripper(rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(md)})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1:1/v1/traces", nil)
	_, err = rt.RoundTrip(req)
	return rec, err
}

func TestForwardsTheBatchCredential(t *testing.T) {
	rec, err := send(t, map[string][]string{"authorization": {"Basic cGs6c2s="}})
	if err != nil || len(rec.got) != 1 || rec.got[0] != "Basic cGs6c2s=" {
		t.Fatalf("got %v, %v", rec.got, err)
	}
}

func TestRefusesWithoutOneBasicCredential(t *testing.T) {
	for name, md := range map[string]map[string][]string{
		"none":    {},
		"empty":   {"authorization": {""}},
		"two":     {"authorization": {"Basic YQ==", "Basic Yg=="}},
		"bearer":  {"authorization": {"Bearer abc"}},
		"no-rest": {"authorization": {"Basic "}},
	} {
		rec, err := send(t, md)
		if len(rec.got) != 0 || !consumererror.IsPermanent(err) {
			t.Fatalf("%s: sent %v, err %v", name, rec.got, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if (&Config{}).Validate() == nil {
		t.Fatal("an empty metadata key must be refused")
	}
	if err := NewFactory().CreateDefaultConfig().(*Config).Validate(); err != nil {
		t.Fatal(err)
	}
}

package traceidroutingexporter

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestPickIsStableAndSpreads(t *testing.T) {
	r := &router{endpoints: []string{"a:4317", "b:4317", "c:4317"}}
	counts := make([]int, 3)
	for i := 0; i < 3000; i++ {
		var id pcommon.TraceID
		id[0], id[1], id[15] = byte(i), byte(i>>8), 7
		first := r.pick(id)
		if again := r.pick(id); again != first {
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

package state

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/facesign/facesign/enclave"
)

// BenchmarkFleetAppend measures the shared log as a sequencer: W writers
// append OpNone records (what every login writes) as fast as they can,
// catching up and retrying whenever another took their sequence number.
// "mem" is the journal alone (MemLog, MemCounter); "s3" is the production
// path on loopback: each writer through its own parent.Host + S3Store to
// the simulator's S3 stand-in, and the DynamoDB counter through the SDK to
// simulator.Counters. Metrics: appends/s across all writers, and lost
// races per append.
func BenchmarkFleetAppend(b *testing.B) {
	for _, store := range []string{"mem", "s3"} {
		for _, writers := range []int{1, 2, 3} {
			b.Run(fmt.Sprintf("store=%s/writers=%d", store, writers), func(b *testing.B) {
				var members []*member
				if store == "mem" {
					log, keys, counter := &enclave.MemLog{}, newMemKeys(), &MemCounter{}
					for range writers {
						m, err := bootMember(b, log, keys, counter)
						if err != nil {
							b.Fatal(err)
						}
						members = append(members, m)
					}
				} else {
					members = newStoreFleetB(b, writers)
				}
				var done, races atomic.Int64
				next := make(chan struct{}, b.N)
				for range b.N {
					next <- struct{}{}
				}
				close(next)
				b.ResetTimer()
				var wg sync.WaitGroup
				for _, m := range members {
					wg.Go(func() {
						for range next {
							n, err := m.commit(context.Background(), enclave.Entry{Op: enclave.OpNone})
							if err != nil {
								b.Error(err)
								return
							}
							done.Add(1)
							races.Add(int64(n))
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(done.Load())/b.Elapsed().Seconds(), "appends/s")
				b.ReportMetric(float64(races.Load())/float64(max(done.Load(), 1)), "lost-races/append")
			})
		}
	}
}

package parent

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// rateLimiter is a token bucket per client network: an IPv4 address, or the
// /64 an IPv6 address belongs to (one subscriber usually holds a whole /64).
// Buckets that have refilled completely carry no information and are swept
// when the table grows past maxKeys, so memory stays bounded.
type rateLimiter struct {
	rate    float64 // tokens per second
	burst   float64
	maxKeys int

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst, maxKeys int) *rateLimiter {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	return &rateLimiter{rate: rate, burst: float64(burst), maxKeys: maxKeys, buckets: map[netip.Prefix]*bucket{}}
}

// clientKey maps a RemoteAddr ("ip:port") to its bucket key.
func clientKey(remoteAddr string) netip.Prefix {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		// Unix sockets and the like: everyone shares one bucket.
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// allow takes one token for key at time now and reports whether there was one,
// and if not, how long until there will be.
func (l *rateLimiter) allow(key netip.Prefix, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweep drops buckets that are full again; if none are, it drops everything
// (an attacker spraying addresses then only resets buckets, never grows memory).
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.maxKeys {
		clear(l.buckets)
	}
}

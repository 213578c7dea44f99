package resolvertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/miekg/dns"
)

// maxChase bounds how many CNAMEs one answer follows, so a loop in the
// zone ends (RFC 1034 §4.3.2 step 3a; real servers stop too).
const maxChase = 16

// Zone is a set of resource records answered authoritatively: every name
// is either present (records or NODATA) or does not exist (NXDOMAIN).
// When the text has SOA records, names outside those zones are REFUSED,
// as a real authoritative server does; without any SOA every name is
// answered.
type Zone struct {
	rrs   map[string][]dns.RR // owner → records
	names map[string]bool     // owners and the empty non-terminals above them
	soas  []*dns.SOA
}

// ParseZone reads RFC 1035 master-file text.
func ParseZone(text string) (*Zone, error) {
	z := &Zone{rrs: map[string][]dns.RR{}, names: map[string]bool{}}
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "zone")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		owner := lower(rr.Header().Name)
		z.rrs[owner] = append(z.rrs[owner], rr)
		for n := owner; ; {
			z.names[n] = true
			i, end := dns.NextLabel(n, 0)
			if end {
				break
			}
			n = n[i:]
		}
		if soa, ok := rr.(*dns.SOA); ok {
			z.soas = append(z.soas, soa)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("resolvertest: %w", err)
	}
	return z, nil
}

// Answer builds the authoritative response to req, following CNAMEs
// inside the zone and adding the SOA to negative answers (RFC 2308 §3).
func (z *Zone) Answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	name := lower(q.Name)
	if len(z.soas) > 0 && z.soaFor(name) == nil {
		// not ours: an authoritative server refuses (it does not recurse)
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		return m
	}
	seen := map[string]bool{}
	for range maxChase {
		if seen[name] {
			return m // a loop: the chain so far is the answer
		}
		seen[name] = true
		rrs := z.rrs[name]
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype || q.Qtype == dns.TypeANY {
				m.Answer = append(m.Answer, dns.Copy(rr))
				found = true
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || q.Qtype == dns.TypeCNAME {
			return m
		}
		if cname != nil {
			m.Answer = append(m.Answer, dns.Copy(cname))
			name = lower(cname.Target)
			continue
		}
		if !z.names[name] {
			m.Rcode = dns.RcodeNameError
		}
		if soa := z.soaFor(name); soa != nil {
			m.Ns = append(m.Ns, dns.Copy(soa))
		}
		return m
	}
	return m
}

// soaFor is the SOA of the closest enclosing zone of name, if any.
func (z *Zone) soaFor(name string) *dns.SOA {
	var best *dns.SOA
	for _, soa := range z.soas {
		origin := lower(soa.Hdr.Name)
		if dns.IsSubDomain(origin, name) && (best == nil || len(origin) > len(best.Hdr.Name)) {
			best = soa
		}
	}
	return best
}

// ReadZoneDir returns the text of every *.zone file in dir, one after the
// other, ready for NewServer (each file sets its own $ORIGIN).
func ReadZoneDir(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.zone"))
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("resolvertest: no *.zone file in %s", dir)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		b.Write(data)
		b.WriteString("\n")
	}
	return b.String(), nil
}

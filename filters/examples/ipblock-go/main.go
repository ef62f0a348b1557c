// ipblock-go: answers 403 to clients whose address is on the config's block
// list (addresses or CIDR prefixes, IPv4 or IPv6), before anything reaches
// the upstream. The client address is weir's: the TCP peer, or the
// X-Forwarded-For address when the peer is a trusted proxy.
//
// Config: { "deny": ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32"],
//
//	"message": "blocked" }   (message optional)
package main

import (
	"fmt"
	"net/netip"

	weir "weirfilter"
)

type ipBlock struct {
	deny    []netip.Prefix
	message string
}

type config struct {
	Deny    *[]string `json:"deny"`
	Message string    `json:"message"`
}

func newIPBlock(cfg weir.Config) (weir.Filter, error) {
	var parsed config
	if err := cfg.Decode(&parsed); err != nil {
		return nil, err
	}
	if parsed.Deny == nil {
		return nil, fmt.Errorf(`config field "deny" is required (a list of addresses or CIDR prefixes)`)
	}
	f := &ipBlock{message: parsed.Message}
	if f.message == "" {
		f.message = "blocked"
	}
	for i, entry := range *parsed.Deny {
		prefix, err := parsePrefix(entry)
		if err != nil {
			return nil, fmt.Errorf(`config field "deny"[%d]: %q is neither an address nor a CIDR prefix`, i, entry)
		}
		f.deny = append(f.deny, prefix)
	}
	return f, nil
}

// An address is the prefix of its own full length.
func parsePrefix(entry string) (netip.Prefix, error) {
	if addr, err := netip.ParseAddr(entry); err == nil {
		return netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()), nil
	}
	prefix, err := netip.ParsePrefix(entry)
	return prefix.Masked(), err
}

func (f *ipBlock) OnRequestHeaders(req *weir.Request) weir.Decision {
	ip := req.ClientIP()
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		weir.Warnf("ipblock: client address %q does not parse; letting it through", ip)
		return weir.Continue()
	}
	addr = addr.Unmap()
	for _, prefix := range f.deny {
		if prefix.Contains(addr) {
			weir.Infof("ipblock: %s blocked by %s", addr, prefix)
			return weir.RespondText(403, f.message)
		}
	}
	return weir.Continue()
}

func init() {
	weir.Export(newIPBlock)
}

func main() {}

/* dp_stats.h — the dataplane's named counters (Ethernet, ARP, IPv4, ICMP,
 * transmit), one X-macro list so that the struct and telemetry see the
 * same names. Every drop has one. Telemetry shows them as "dp_<name>". */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stdint.h>

#define DP_STATS_LIST(X)                                                      \
	X(rx_pkts)            /* frames received from the port */              \
	X(rx_bytes)           /* bytes of those frames */                      \
	X(tx_pkts)            /* frames the port accepted */                   \
	X(tx_bytes)           /* bytes of those frames */                      \
	X(tx_refused)         /* drop: the port's TX queue was full */         \
	X(tx_no_headroom)     /* drop: no room to prepend Ethernet */          \
	X(tx_no_route)        /* drop: off-link and no gateway */              \
	X(tx_nombuf)          /* drop: pool empty building ARP/ICMP */         \
	X(eth_short)          /* drop: frame shorter than Ethernet header */   \
	X(eth_not_ours)       /* drop: destination MAC not ours/broadcast */   \
	X(eth_bad_src)        /* drop: multicast source MAC */                 \
	X(eth_other_type)     /* drop: neither IPv4 nor ARP (VLAN, IPv6..) */  \
	X(arp_short)          /* drop: ARP packet too short */                 \
	X(arp_bad_hdr)        /* drop: not Ethernet/IPv4 ARP, bad opcode */    \
	X(arp_bad_sender)     /* drop: sender MAC/IP not a unicast host */     \
	X(arp_conflict)       /* drop: another host claims our IP address */   \
	X(arp_not_ours)       /* ARP for another host (learnt only if known)*/ \
	X(arp_rx_request)     /* ARP requests for our IP */                    \
	X(arp_rx_reply)       /* ARP replies seen */                           \
	X(arp_tx_request)     /* ARP requests sent (resolve, retry, refresh) */\
	X(arp_tx_reply)       /* ARP replies sent */                           \
	X(arp_learned)        /* new cache entries from received ARP */        \
	X(arp_resolved)       /* pending destinations resolved */              \
	X(arp_table_full)     /* drop: no free ARP cache entry */              \
	X(arp_pending_full)   /* drop: per-destination pending queue full */   \
	X(arp_unresolved)     /* drop: queued packets, no reply after retries*/\
	X(arp_expired)        /* cache entries removed (refresh unanswered) */ \
	X(ip_short)           /* drop: shorter than an IPv4 header */          \
	X(ip_bad_version)     /* drop: version != 4 */                         \
	X(ip_bad_ihl)         /* drop: IHL < 5 or beyond the frame */          \
	X(ip_bad_len)         /* drop: total length < IHL*4 or > frame */      \
	X(ip_bad_csum)        /* drop: header checksum wrong */                \
	X(ip_frag)            /* drop: fragment (MF set or offset != 0) */     \
	X(ip_not_ours)        /* drop: destination is not our address */      \
	X(ip_bad_src)         /* drop: source 0, multicast or broadcast */     \
	X(ip_other_proto)     /* drop: neither TCP nor ICMP */                 \
	X(ip_multiseg)        /* drop: chained mbuf where one was needed */    \
	X(icmp_short)         /* drop: ICMP message shorter than 8 bytes */    \
	X(icmp_bad_csum)      /* drop: ICMP checksum wrong */                  \
	X(icmp_other)         /* ICMP other than echo request (ignored) */     \
	X(icmp_echo_reply)    /* echo replies sent */                          \
	X(tcp_to_engine)      /* segments handed to tcp_input_burst() */     \
	X(steer_out)          /* segments passed to the flow's owner worker */ \
	X(steer_in)           /* segments received from another worker */     \
	X(steer_full)         /* drop: the ring to the owner worker was full */\
	X(arp_shared)         /* ARP copies passed to the other workers */    \
	X(tx_via_ring)        /* frames passed to the transmitting worker */  \
	X(tx_ring_full)       /* drop: the ring to that worker was full */    \
	X(pcap_drop)          /* --pcap: frame not captured (copy pool empty)*/

struct dp_stats {
#define DP_STATS_FIELD(n) uint64_t n;
	DP_STATS_LIST(DP_STATS_FIELD)
#undef DP_STATS_FIELD
};

#endif

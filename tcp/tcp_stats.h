/* tcp_stats.h — the engine's named counters, one X-macro list so that the
 * struct, telemetry and tests all see the same names. Every drop has one. */
#ifndef TCP_STATS_H
#define TCP_STATS_H

#include <stdint.h>

#define TCP_STATS_LIST(X)                                                     \
	X(rx_segs)            /* valid TCP segments (header, checksum ok) */   \
	X(rx_bytes)           /* payload bytes accepted in order */            \
	X(tx_segs)            /* segments transmitted (incl. retransmits) */   \
	X(tx_bytes)           /* payload bytes transmitted */                  \
	X(rx_bad_hdr)         /* drop: TCP header too short / bad offset */    \
	X(rx_bad_csum)        /* drop: TCP checksum wrong */                   \
	X(rx_bad_opts)        /* options malformed (ignored, seg kept) */      \
	X(rx_multiseg)        /* drop: chained mbuf not supported */           \
	X(rx_no_conn)         /* segment for no connection or listener */      \
	X(rx_unacceptable)    /* drop: failed RFC 9293 acceptability test */   \
	X(rx_ooo_queued)      /* out-of-order segments kept for reassembly */  \
	X(rx_ooo_dup)         /* out-of-order data already queued */           \
	X(rx_ooo_drop)        /* drop: out-of-order queue full */              \
	X(rx_old_ack)         /* ACK of data already acked (dup/old) */        \
	X(rx_ack_too_new)     /* drop: ACK of data never sent */               \
	X(rx_rcvbuf_full)     /* drop: payload beyond the receive window */    \
	X(rx_urg)             /* URG flag seen (ignored, RFC 9293 3.10.7.4) */ \
	X(rx_rst_accepted)    /* RST with seq == rcv_nxt */                    \
	X(rx_rst_challenged)  /* RST in window, not exact: challenge ACK */    \
	X(rx_rst_ignored)     /* RST out of window: dropped */                 \
	X(rx_syn_challenged)  /* SYN in synchronized state: challenge ACK */   \
	X(rx_syn_in_tw)       /* SYN reused a TIME_WAIT tuple (RFC 6191) */    \
	X(tx_rst)             /* RSTs sent */                                  \
	X(tx_rst_listen_ack)  /* ... of them to an ACK reaching a listener */  \
	                      /* (no connection, no valid cookie: a stray */ \
	                      /* or late segment of a closed connection) */  \
	X(tx_challenge_ack)   /* challenge ACKs sent (RFC 5961) */             \
	X(challenge_ack_limited) /* challenge ACK suppressed (RFC 5961 §7) */  \
	X(nagle_delayed)      /* a small segment held back by Nagle */         \
	X(delack_sent)        /* ACKs sent by the delayed-ACK timer */         \
	X(win_updates)        /* window updates sent after the app read */     \
	X(persist_probes)     /* zero-window probes sent */                    \
	X(persist_timeouts)   /* aborted: zero-window probes unanswered */     \
	X(keepalive_probes)   /* keepalive probes sent */                      \
	X(keepalive_timeouts) /* aborted: keepalive probes unanswered */       \
	X(fin_wait2_timeouts) /* closed: peer sent no FIN in fin_wait2_ms */   \
	X(tx_nombuf)          /* drop: mbuf pool empty when transmitting */    \
	X(tx_drop)            /* drop: transmit function refused */            \
	X(retransmits)        /* segments retransmitted (RTO, fast, SACK, TLP) */ \
	X(rto_expired)        /* retransmission timer expirations */           \
	X(fast_retransmits)   /* retransmits on entering recovery (RFC 5681) */\
	X(recoveries)         /* fast recovery episodes (NewReno or SACK) */   \
	X(sack_recoveries)    /* ... of which SACK-based (RFC 6675) */         \
	X(partial_acks)       /* ACKs inside recovery short of recover */      \
	X(tlp_probes)         /* tail loss probes sent (RFC 8985 §7) */        \
	X(tlp_recovery_probes) /* ... of them sent in SACK recovery with no progress for a PTO */ \
	X(tlp_recoveries)     /* probes that repaired a tail loss */           \
	X(rx_dsack)           /* D-SACK blocks received (RFC 2883) */          \
	X(conn_timeout)       /* connections aborted: retries exhausted */     \
	X(conn_opened_active) /* connect() reached ESTABLISHED */              \
	X(conn_opened_passive)/* accepted connections */                       \
	X(conn_closed)        /* connections that reached CLOSED */            \
	X(conn_reset)         /* connections ended by a RST */                 \
	X(listen_overflow)    /* drop: SYN, SYN/accept queue full, no cookie */\
	X(syncookies_sent)    /* SYN answered with a SYN cookie, no state */   \
	X(syncookies_ok)      /* ACK carried a valid cookie */                 \
	X(syncookies_failed)  /* ACK to a listener sending cookies: invalid */ \
	X(accept_overflow)    /* handshake refused: accept queue full */       \
	X(conn_limit)         /* refused: max_conns reached */                 \
	X(tw_expired)         /* TIME_WAIT ended after 2*MSL */                \
	X(tw_overflow)        /* closed without TIME_WAIT: max_time_wait */    \
	X(state_changes)      /* tcp_set_state() calls */                      \
	X(rx_paws_drop)       /* drop: PAWS, TSval older than TS.Recent (ACKed) */ \
	X(rx_paws_idle)       /* TS.Recent older than 24 days invalidated (RFC 7323 §5.5) */ \
	X(rx_ts_missing)      /* drop: no TSopt on a timestamped conn (RFC 7323 §3.2) */ \
	X(rx_wscale_clamped)  /* peer's window shift above 14 taken as 14 */   \
	X(rtt_ts_samples)     /* RTT samples taken from TSecr (RFC 7323 §4.1) */ \
	X(rtt_ts_stale)       /* no sample: TSecr older than SND.UNA's resend */ \
	X(rtt_ts_coarse)      /* no sample: TSecr within 1 ms tick, SRTT known */ \
	X(rx_sack_blocks)     /* valid SACK blocks received */                 \
	X(rx_sack_bad)        /* SACK blocks outside SND.UNA..SND.MAX ignored */ \
	X(tx_sack_blocks)     /* SACK blocks sent */                           \
	X(tx_dsack)           /* D-SACK blocks sent (RFC 2883) */              \
	X(syncookies_opts)    /* cookie conns with WS/SACK restored from TSecr */ \
	X(rx_tw_syn_ts_old)   /* SYN to TIME_WAIT not newer by TS (RFC 6191) */ \
	X(rack_reordering)    /* conns that saw reordering (RFC 8985 §6.2 step 3) */ \
	X(rack_timeouts)      /* RACK reordering timer expirations (RFC 8985 §6.3) */ \
	X(rack_lost_resends)  /* resends found lost by RACK, sent again */ \
	X(undo_dsack)         /* cwnd reductions undone: every resend D-SACKed */ \
	X(undo_ts)            /* cwnd reductions undone: TSecr older than the resend (RFC 3522) */ \
	X(rx_paws_reordered_ack) /* pure dup ACK, TSval older: reordered, kept (as Linux) */ \
	X(rx_oow_ack_limited) /* no ACK for an unacceptable pure ACK (500 ms limit) */ \
	X(tlp_spurious)       /* resent probes D-SACKed / dup-ACKed: no loss (RFC 8985 §7.4.2) */ \
	X(rto_syn_fallback)   /* data RTO set to 3 s: SYN resent, no RTT sample (RFC 6298 §5.7) */

struct tcp_stats {
#define TCP_STATS_FIELD(n) uint64_t n;
	TCP_STATS_LIST(TCP_STATS_FIELD)
#undef TCP_STATS_FIELD
};

#endif

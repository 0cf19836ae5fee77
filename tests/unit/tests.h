/* tests.h — every unit test, one X-macro list: main() builds its table
 * from it and `test_tcp --list` prints it; meson.build keeps its own copy,
 * compared by the test 'unit_list_complete'. */
#ifndef DPT_TEST_TESTS_H
#define DPT_TEST_TESTS_H

#define UNIT_TESTS(X)                                   \
	/* opening: t_open.c */                         \
	X(test_three_way_handshake)                     \
	X(test_simultaneous_open_via_syn_received)      \
	X(test_syn_received_rst_returns_to_listen)      \
	X(test_syn_received_bad_ack_gets_rst)           \
	X(test_close_in_syn_received_goes_fin_wait_1)   \
	X(test_syn_sent_gives_up_after_retries)         \
	X(test_synack_retransmitted_then_given_up)      \
	X(test_connect_refused)                         \
	X(test_syn_sent_bad_ack_gets_rst)               \
	X(test_syn_sent_rst_needs_acceptable_ack)       \
	X(test_mss_option_sent_and_honoured)            \
	X(test_mss_default_536)                         \
	X(test_isn_differs_per_connection)              \
	X(test_isn_clock_advances_4us)                  \
	X(test_duplicate_syn_in_syn_received_resends_synack) \
	/* closing: t_close.c */                        \
	X(test_active_close_four_way)                   \
	X(test_simultaneous_close_reaches_closing_then_time_wait) \
	X(test_half_close_fin_wait_2_keeps_receiving)   \
	X(test_close_wait_keeps_sending)                \
	X(test_last_ack_to_closed)                      \
	X(test_time_wait_expires_after_2msl)            \
	X(test_time_wait_acks_retransmitted_fin)        \
	X(test_time_wait_ignores_rst)                   \
	X(test_time_wait_syn_with_higher_isn_opens)     \
	X(test_listen_reopens_over_time_wait)           \
	X(test_data_after_close_gets_rst)               \
	X(test_abort_sends_rst)                         \
	X(test_fin_wait_2_timeout)                      \
	X(test_fin_wait_2_data_with_fin_stays_readable) \
	/* RST / SYN authenticity: t_rst.c */           \
	X(test_rst_exact_seq_accepted)                  \
	X(test_rst_in_window_challenged)                \
	X(test_rst_out_of_window_ignored)               \
	X(test_syn_in_established_challenge_ack)        \
	X(test_rst_to_closed_port)                      \
	X(test_challenge_ack_rate_limited)              \
	/* data: t_data.c */                            \
	X(test_data_transfer_in_order)                  \
	X(test_unacceptable_segment_acked)              \
	X(test_out_of_order_segment_queued_and_acked)   \
	X(test_ack_of_unsent_data_acked_and_dropped)    \
	X(test_ack_too_old_dropped)                     \
	X(test_receive_window_from_free_space)          \
	X(test_zero_window_then_reopen)                 \
	X(test_sender_avoids_silly_window)              \
	X(test_zero_window_probe_answered)              \
	X(test_persist_probes_zero_window)              \
	X(test_delayed_ack_timer_and_every_second_segment) \
	X(test_seq_wraparound_transfer)                 \
	X(test_seq_arith_wrap)                          \
	X(test_bulk_transfer_1MiB_both_ways)            \
	X(test_bulk_transfer_with_loss_dup_reorder)     \
	X(test_bulk_transfer_heavy_loss)                \
	X(test_ooo_segments_reassembled_when_gap_filled) \
	X(test_ooo_overlapping_segments_trimmed) \
	X(test_ooo_fin_processed_when_gap_filled) \
	X(test_ooo_queue_bound) \
	X(test_ooo_full_window_kept) \
	X(test_ooo_window_counts_queued_bytes) \
	X(test_ooo_bare_fin_beyond_gap_dup_acked) \
	X(test_ooo_fin_on_covered_segment_kept) \
	/* timers: t_timer.c */                         \
	X(test_retransmit_backoff_doubles)              \
	X(test_data_retries_abort)                      \
	X(test_karn_no_rtt_sample_from_retransmit)      \
	X(test_pure_ack_after_rto_carries_snd_max) \
	X(test_zero_window_shrink_probes_not_abort) \
	X(test_unlisten_inside_accept_callback) \
	X(test_rto_collapses_cwnd_to_one_segment)       \
	X(test_initial_window_rfc6928)                  \
	X(test_rto_3s_after_syn_retransmitted)          \
	/* limits: t_limit.c */                         \
	X(test_syn_backlog_limit)                       \
	X(test_accept_backlog_limit)                    \
	X(test_max_conns_limit)                         \
	/* whole-suite properties and robustness: t_misc.c */ \
	X(test_every_state_visited)                     \
	X(test_no_mbuf_leak)                            \
	X(test_bad_checksum_dropped)                    \
	X(test_api_errors)                              \
	X(test_fuzz_listener)                           \
	X(test_fuzz_established)                        \
	/* a busy server and client (issue 4): t_scale.c */ \
	X(test_syn_burst_answered_in_one_batch) \
	X(test_syn_cookies_when_syn_queue_full) \
	X(test_syn_cookies_always_and_expiry) \
	X(test_syn_cookie_accept_queue_full_dropped) \
	X(test_time_wait_100k_compact_records) \
	X(test_time_wait_overflow_closes_without_time_wait) \
	X(test_ephemeral_ports_owned_and_amortised) \
	X(test_ephemeral_ports_exhausted_by_time_wait) \
	X(test_one_ack_per_connection_per_burst)        \
	/* loss recovery and congestion control (issue 6): t_loss.c */ \
	X(test_fast_retransmit_after_three_dupacks_not_two) \
	X(test_newreno_partial_ack_retransmits_next_hole) \
	X(test_sack_recovery_retransmits_only_holes) \
	X(test_dsack_counted_not_loss) \
	X(test_rto_resend_skips_sacked_segments) \
	X(test_rack_reordering_within_window_not_lost) \
	X(test_rack_reordering_below_reo_wnd_not_resent) \
	X(test_rack_dsack_widens_reo_wnd) \
	X(test_rack_lost_retransmission_resent_without_rto) \
	X(test_recovery_probe_resends_hole_when_window_full) \
	X(test_recovery_probe_when_final_ack_lost) \
	X(test_undo_when_dsack_reports_every_resend) \
	X(test_undo_when_tsecr_predates_resend) \
	X(test_tlp_dsacked_probe_counted_spurious) \
	X(test_rack_hole_in_mark_of_sacked_segment) \
	X(test_prr_spreads_sends_over_recovery) \
	X(test_slow_start_counts_two_segments_per_ack) \
	X(test_isolated_losses_recovered_without_rto) \
	X(test_cubic_window_follows_w_cubic) \
	X(test_cc_config_selects_algorithm) \
	X(test_bulk16_loss1_cubic) \
	X(test_bulk16_loss1_newreno) \
	X(test_bulk16_loss5_cubic) \
	X(test_bulk16_loss5_newreno) \
	X(test_bulk16_loss20_cubic) \
	X(test_bulk16_loss20_newreno) \
	X(test_bulk16_reorder_cubic) \
	X(test_bulk16_reorder_newreno) \
	X(test_bulk16_dup_cubic) \
	X(test_bulk16_dup_newreno) \
	X(test_bulk16_corrupt_cubic) \
	X(test_bulk16_corrupt_newreno) \
	X(test_bulk16_delay_cubic) \
	X(test_bulk16_delay_newreno) \
	X(test_bulk16_mixed_cubic) \
	X(test_bulk16_mixed_newreno) \
	/* ACK/send policy and timers (issue 6): t_policy.c */ \
	X(test_nagle_holds_small_segment_until_acked) \
	X(test_nagle_full_segment_is_mss_less_sack_blocks) \
	X(test_nodelay_sends_small_segments_at_once) \
	X(test_config_timer_defaults) \
	X(test_ack_at_once_for_gap_and_window_open) \
	X(test_receiver_sws_window_opens_in_mss_steps) \
	X(test_persist_intervals_double_and_transfer_resumes) \
	X(test_persist_gives_up_when_probes_unanswered) \
	X(test_keepalive_detects_silent_peer) \
	X(test_keepalive_reset_by_traffic) \
	X(test_fin_wait_2_after_shutdown_not_timed_out) \
	/* options, issue 6: t_opts.c */ \
	X(test_wscale_negotiated_both_directions) \
	X(test_options_not_sent_when_peer_syn_lacks_them) \
	X(test_wscale_off_locally_not_negotiated) \
	X(test_wscale_peer_window_scaled_and_used) \
	X(test_scaled_window_right_edge_never_shrinks) \
	X(test_long_fat_pipe_4MiB_window) \
	X(test_ts_echoed_and_updated_per_4_3) \
	X(test_paws_drops_old_ts_and_acks) \
	X(test_ts_recent_from_retransmission_of_last_acked) \
	X(test_paws_keeps_reordered_dup_ack) \
	X(test_oow_pure_ack_answer_rate_limited) \
	X(test_rtt_sample_from_ts_on_retransmit) \
	X(test_no_rtt_sample_from_echo_older_than_resend) \
	X(test_rtt_ts_sample_below_tick_skipped) \
	X(test_ts_option_bytes_reduce_payload) \
	X(test_syn_cookie_keeps_wscale_sack_with_ts) \
	X(test_sack_blocks_most_recent_first_max4) \
	X(test_sack_blocks_max3_with_timestamps) \
	X(test_dsack_for_duplicate_segment) \
	X(test_sack_blocks_received_validated) \
	X(test_time_wait_ts_kept_and_reuse_by_newer_ts) \
	X(test_window_update_from_ack_of_new_data_old_seq) \
	/* the timer wheel on its own: t_wheel.c */     \
	X(test_wheel_timer_fires_on_its_exact_tick_at_every_level) \
	X(test_wheel_random_arms_and_stops_fire_once_on_their_tick) \
	X(test_wheel_callbacks_may_arm_and_stop_timers)

#define UNIT_TEST_DECL(n) void n(void);
UNIT_TESTS(UNIT_TEST_DECL)
#undef UNIT_TEST_DECL

#endif
